"""The labelling queue's API: pools, the most useful headlines first, nothing twice."""

from __future__ import annotations

import numpy as np
import pytest

from service.app import create_app
from service.state import EXTENSION
from training.locations import data_dir
from training.queue import most_useful


@pytest.fixture
def client_and_token(service_home, service_helpers):
    app = create_app(service_helpers.settings(service_home, data_dir=data_dir()))
    token = app.extensions[EXTENSION].tokens.create("editor")
    return app.test_client(), {"Authorization": f"Bearer {token}"}


def test_queue_offers_the_nearest_the_threshold_and_never_a_labelled_one(client_and_token):
    client, headers = client_and_token
    first = client.get("/v1/queue?pool=unlabeled&n=10", headers=headers)
    assert first.status_code == 200
    answer = first.json
    assert len(answer["items"]) == 10 and answer["open"] > 20_000
    threshold = answer["threshold"]
    distances = [abs(item["p_clickbait"] - threshold) for item in answer["items"]]
    assert max(distances) < 0.05  # uncertainty sampling: all close to the threshold
    assert all(item["explanation"] for item in answer["items"])
    labels = [{"headline": item["headline"], "label": "clickbait"} for item in answer["items"]]
    assert client.post("/v1/labels", json={"labels": labels}, headers=headers).status_code == 201
    again = client.get("/v1/queue?pool=unlabeled&n=10", headers=headers).json
    assert not {i["headline"] for i in again["items"]} & {i["headline"] for i in answer["items"]}
    assert again["labelled"] == 10


def test_scored_headlines_are_a_pool_only_when_the_operator_says_so(service_home,
                                                                    service_helpers):
    for store, expected in ((False, 409), (True, 200)):
        home = service_home / str(store)
        app = create_app(service_helpers.settings(home, store_scored=store))
        token = app.extensions[EXTENSION].tokens.create("editor")
        headers = {"Authorization": f"Bearer {token}"}
        client = app.test_client()
        client.post("/v1/score", json={"headlines": ["央行宣布降准", "女星红毯造型惊艳全场"]})
        pools = client.get("/v1/pools", headers=headers).json["pools"]
        assert pools["scored"]["available"] is store
        assert pools["scored"]["count"] == (2 if store else 0)
        assert client.get("/v1/queue?pool=scored", headers=headers).status_code == expected


def test_uploaded_pool_and_bad_requests(client_and_token):
    client, headers = client_and_token
    added = client.post("/v1/pools/uploaded", headers=headers,
                        json={"headlines": ["国家统计局发布十月经济数据", "女子深夜独自回家竟遇怪事"]})
    assert added.status_code == 201 and added.json == {"added": 2, "count": 2}
    again = client.post("/v1/pools/uploaded", headers=headers,
                        json={"headlines": ["国家统计局发布十月经济数据"]})
    assert again.json == {"added": 0, "count": 2}
    assert len(client.get("/v1/queue?pool=uploaded", headers=headers).json["items"]) == 2
    assert client.get("/v1/queue?pool=nope", headers=headers).status_code == 422
    assert client.get("/v1/queue?n=0", headers=headers).status_code == 422
    assert client.get("/v1/queue").status_code == 401
    assert client.post("/v1/pools/uploaded", headers=headers,
                       json={"headlines": [""]}).status_code == 422


def test_near_copies_are_passed_over():
    texts = ["央行宣布下调存款准备金率", "央行宣布下调存款准备金率!", "女星红毯造型惊艳全场",
             "国务院召开常务会议"]
    p = np.array([0.50, 0.50, 0.52, 0.90])
    assert most_useful(texts, p, 0.5, 3) == [0, 2, 3]
