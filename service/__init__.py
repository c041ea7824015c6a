"""headline-sieve HTTP service: score headlines, take labels, retrain and roll back.

``service.app.create_app`` is the Flask application factory; ``headline-sieve
serve`` runs it under gunicorn. See docs/service.md.
"""
