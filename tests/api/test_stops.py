"""/api/v1/stops finds stops by distance (metres, nearest first) and names bad parameters."""


def test_stops_within_the_radius_come_nearest_first_with_their_route_badges(client):
    fc = client.get("/api/v1/stops?near=43.7300,7.4200&radius=250").get_json()
    props = [f["properties"] for f in fc["features"]]
    assert [p["id"] for p in props] == ["A", "B"]  # C lies 500 m away
    assert [p["distance_m"] for p in props] == [0.0, 200.0]
    assert props[0]["routes"] == [{"id": "L1", "short_name": "1", "color": "E2001A",
                                   "text_color": "FFFFFF", "type": 3}]
    assert fc["features"][0]["geometry"] == {"type": "Point", "coordinates": [7.42, 43.73]}


def test_without_near_every_stop_is_listed_and_limit_cuts_the_list(client):
    assert [f["id"] for f in client.get("/api/v1/stops").get_json()["features"]] == ["A", "B", "C"]
    near = client.get("/api/v1/stops?near=43.73,7.4262&radius=5000&limit=1").get_json()
    assert [f["id"] for f in near["features"]] == ["C"]


def test_a_radius_beyond_the_configured_maximum_is_refused(make_app):
    client = make_app(max_stops_radius_m=1000).test_client()
    r = client.get("/api/v1/stops?near=43.73,7.42&radius=1001")
    assert r.status_code == 422
    assert r.get_json() == {"code": "RADIUS_TOO_LARGE", "message": "radius must be at most 1000 m",
                            "field": "radius"}


def test_a_malformed_centre_is_a_400_naming_near(client):
    r = client.get("/api/v1/stops?near=43.73")
    assert r.status_code == 400
    assert r.get_json()["code"] == "MALFORMED_COORDINATES" and r.get_json()["field"] == "near"
