"""The Reddit simulator's media host (what i.redd.it is to Reddit): files a test puts there are
served back byte for byte without a token, with their type; reset forgets them."""

from __future__ import annotations

from tests.api.asset_support import png
from tests.simulators.conftest import Sim


async def test_media_round_trip_and_reset(sim: Sim) -> None:
    http = sim.http
    data = png(20, 20, seed=5)
    made = await http.post(
        "/_sim/reddit/media", content=data, headers={"Content-Type": "image/png"}
    )
    assert made.status_code == 201
    body = made.json()
    assert body["mimeType"] == "image/png" and body["url"].endswith(
        f"/reddit/media/{body['id']}.png"
    )
    path = "/reddit/media/" + body["url"].rsplit("/", 1)[1]
    served = await http.get(path)  # no Authorization: public media
    assert served.status_code == 200 and served.content == data
    assert served.headers["content-type"] == "image/png"
    assert (await http.get("/reddit/media/nope.png")).status_code == 404
    assert (await http.post("/_sim/reddit/media", content=b"")).status_code == 400
    await http.post("/_sim/reset")
    assert (await http.get(path)).status_code == 404


async def test_media_can_be_slowed_like_any_reddit_path(sim: Sim) -> None:
    http = sim.http
    made = (
        await http.post("/_sim/reddit/media", content=b"x", headers={"Content-Type": "image/png"})
    ).json()
    rule = {"platform": "reddit", "path": "^/media/", "status": 503, "errorRate": 1.0}
    assert (await http.post("/_sim/faults", json={"rules": [rule]})).status_code == 200
    assert (await http.get(f"/reddit/media/{made['id']}.png")).status_code == 503
