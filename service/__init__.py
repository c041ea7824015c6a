"""headline-sieve HTTP service: score headlines, take labels, retrain and roll back.

``service.app.create_app`` is the Flask application factory; ``headline-sieve
serve`` runs it under gunicorn. See docs/service.md.

Layout:

- top level: the app factory (:mod:`.app`), settings (:mod:`.config`), the
  per-process state the views share (:mod:`.state`), and the runtime: the
  gunicorn server (:mod:`.server`), the active model of a worker
  (:mod:`.active_model`), metrics (:mod:`.metrics`), and the retraining job
  (:mod:`.retraining`, run by :mod:`.retrain_worker`);
- :mod:`.views`: one blueprint per concern (health, scoring, page filter,
  labels, jobs, models, queue, the labelling page, OpenAPI), and what they
  share (auth, errors, request validation);
- :mod:`.stores`: what is kept on disk (registry, labels, jobs, tokens,
  pools) and the SQLite / atomic-write helpers they share (:mod:`.stores.storage`).
"""
