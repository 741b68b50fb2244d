"""Write ``tiny_town.osm``, the hand-checkable street grid of the tiny town (OSM XML).

Run from the project root: ``python data_samples/tiny_town/make_tiny_town.py``. The output is
deterministic (same bytes on every run) and committed beside this script. The layout follows
/work/tiny-town-spec.md: intersections on a 5 x 4 grid, column i at lon 7.5000 + 0.0025 i, row j at
lat 43.8000 + 0.0018 j; README.md in this folder draws the map and lists every tag that matters.

Ids are chosen to be read by a human: intersection (i, j) is node ``1000 + 10 i + j`` (so (2, 1)
is node 1021), other street nodes are ``2001...``, parking nodes ``3001...``, ways ``101...``.
"""
from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import quoteattr

OUT = Path(__file__).with_name("tiny_town.osm")

LON0, LAT0 = 7.5000, 43.8000
DLON, DLAT = 0.0025, 0.0018


def grid(i: int, j: int) -> int:
    """OSM node id of intersection (i, j)."""
    return 1000 + 10 * i + j


# node id -> (lon, lat, tags)
NODES: dict[int, tuple[float, float, dict[str, str]]] = {
    grid(i, j): (LON0 + DLON * i, LAT0 + DLAT * j, {}) for i in range(5) for j in range(4)
}
NODES.update({
    # Intermediate street nodes, so that edges are not all intersection to intersection.
    2001: (7.50375, 43.8018, {}),                     # Avenue de la Gare, between (1, 1) and (2, 1)
    2002: (7.50875, 43.8018, {}),                     # Avenue de la Gare, between (3, 1) and (4, 1)
    2003: (7.5050, 43.8045, {"amenity": "parking_entrance", "parking": "underground",
                              "name": "Parking Centre (entrée)"}),  # Rue du Marché, (2, 2)-(2, 3)
    2004: (7.50625, 43.8054, {}),                     # Piste du Canal, between (2, 3) and (3, 3)
    2005: (7.5085, 43.8008, {}),                      # dead end of the private Allée des Résidents
    2006: (7.4997, 43.7997, {"amenity": "parking_entrance", "parking": "surface",
                              "name": "Parking Relais (entrée)"}),  # end of Accès Relais
    # Parking facilities (spec table), a private car park and the bicycle parking.
    3001: (7.5052, 43.8038, {"amenity": "parking", "parking": "underground", "capacity": "120",
                              "name": "Parking Centre"}),
    3002: (7.5098, 43.8020, {"amenity": "parking", "parking": "surface", "capacity": "60",
                              "name": "Parking Gare"}),
    3003: (7.4995, 43.7995, {"amenity": "parking", "parking": "surface", "park_ride": "yes",
                              "capacity": "200", "name": "Parking Relais"}),
    3004: (7.5003, 43.8019, {"amenity": "bicycle_parking", "bicycle_parking": "stands",
                              "capacity": "10"}),
    3005: (7.5086, 43.8010, {"amenity": "parking", "access": "private", "capacity": "12",
                              "name": "Parking Résidence des Pins"}),
})

# way id -> (node ids in order, tags)
WAYS: dict[int, tuple[list[int], dict[str, str]]] = {
    101: ([grid(i, 0) for i in range(5)],
          {"highway": "secondary", "name": "Route du Sud", "maxspeed": "50 mph"}),
    102: ([grid(0, 1), grid(1, 1), 2001, grid(2, 1), grid(3, 1), 2002, grid(4, 1)],
          {"highway": "primary", "name": "Avenue de la Gare", "maxspeed": "50",
           "cycleway:right": "lane", "cycleway:left": "no"}),
    103: ([grid(i, 2) for i in range(5)],
          {"highway": "residential", "name": "Rue Haute", "oneway": "yes", "maxspeed": "30"}),
    104: ([grid(0, 3), grid(1, 3), grid(2, 3)],
          {"highway": "residential", "name": "Rue du Canal"}),
    105: ([grid(2, 3), 2004, grid(3, 3), grid(4, 3)],
          {"highway": "cycleway", "name": "Piste du Canal"}),
    106: ([grid(0, j) for j in range(4)],
          {"highway": "residential", "name": "Rue de l'Ouest"}),
    107: ([grid(1, 0), grid(1, 1), grid(1, 2)],
          {"highway": "residential", "name": "Rue des Écoles"}),
    108: ([grid(1, 2), grid(1, 3)],
          {"highway": "footway", "name": "Passage des Fleurs"}),
    109: ([grid(2, 0), grid(2, 1), grid(2, 2), 2003, grid(2, 3)],
          {"highway": "residential", "name": "Rue du Marché", "oneway": "yes", "maxspeed": "30",
           "oneway:bicycle": "no", "cycleway:left": "lane", "cycleway:left:oneway": "-1",
           "cycleway:right": "no"}),
    110: ([grid(3, 0), grid(3, 1), grid(3, 2)],
          {"highway": "residential", "name": "Rue des Jardins", "maxspeed": "30;50"}),
    111: ([grid(3, 2), grid(3, 3)],
          {"highway": "steps", "name": "Escalier de la Tour", "step_count": "120"}),
    112: ([grid(4, j) for j in range(4)],
          {"highway": "tertiary", "name": "Avenue de l'Est", "maxspeed": "none"}),
    113: ([grid(3, 0), 2005],
          {"highway": "service", "name": "Allée des Résidents", "access": "private",
           "foot": "yes"}),
    114: ([grid(0, 0), 2006],
          {"highway": "service", "name": "Accès Relais"}),
}


def _tags_xml(tags: dict[str, str], indent: str) -> list[str]:
    return [f"{indent}<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in sorted(tags.items())]


def tiny_town_xml() -> str:
    """The whole OSM XML document as a string (nodes, then ways, each by id)."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<osm version="0.6" generator="trajet data_samples/tiny_town/make_tiny_town.py">',
             '  <bounds minlat="43.7990" minlon="7.4990" maxlat="43.8060" maxlon="7.5110"/>']
    for node_id in sorted(NODES):
        lon, lat, tags = NODES[node_id]
        head = f'  <node id="{node_id}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"'
        if tags:
            lines += [head + ">", *_tags_xml(tags, "    "), "  </node>"]
        else:
            lines.append(head + "/>")
    for way_id in sorted(WAYS):
        refs, tags = WAYS[way_id]
        lines.append(f'  <way id="{way_id}" version="1">')
        lines += [f'    <nd ref="{ref}"/>' for ref in refs]
        lines += _tags_xml(tags, "    ")
        lines.append("  </way>")
    lines.append("</osm>")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    OUT.write_text(tiny_town_xml(), encoding="utf-8")
    print(f"wrote {OUT} ({len(NODES)} nodes, {len(WAYS)} ways)")
