"""Load a walking network (OSM XML or GraphML) with osmnx and turn it into arrays for the engine.

The engine needs undirected links with a length and a clear width, a shortest-path router, and the
chokepoints planners watch. The same code serves the shipped schematic network and a real OSM download:
places and chokepoints are snapped by position, and a missing width falls back to a default per
street type.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import LineString, Point

from simulator.geo import to_xy
from simulator.network_build import CHOKEPOINT_TAG
from simulator.paths import SCHEMATIC_OSM
from simulator.places import CHOKEPOINTS, Chokepoint

log = logging.getLogger(__name__)

EXTRA_WAY_TAGS = [CHOKEPOINT_TAG, "indoor", "layer", "footway"]
EXTRA_NODE_TAGS = ["name", "amenity", "shop", "office", "ref"]
DEFAULT_WIDTH_M = {"corridor": 6.0, "footway": 3.0, "pedestrian": 6.0, "steps": 2.0, "path": 2.0,
                   "residential": 2.5, "living_street": 3.0, "service": 2.0, "secondary": 4.0,
                   "primary": 4.0, "tertiary": 3.0, "unclassified": 2.5}
FALLBACK_WIDTH_M = 2.5


def load_graph(path: Path | str = SCHEMATIC_OSM) -> nx.MultiDiGraph:
    """Read OSM XML (``.osm``, ``.osm.bz2``, ``.xml``) or GraphML with osmnx, walking in both directions."""
    path = Path(path)
    useful_way, useful_node = list(ox.settings.useful_tags_way), list(ox.settings.useful_tags_node)
    ox.settings.useful_tags_way = sorted(set(useful_way) | set(EXTRA_WAY_TAGS))
    ox.settings.useful_tags_node = sorted(set(useful_node) | set(EXTRA_NODE_TAGS))
    try:
        if path.suffix == ".graphml":
            graph = ox.load_graphml(path)
        else:
            graph = ox.graph_from_xml(path, bidirectional=True, simplify=False, retain_all=True)
    finally:
        ox.settings.useful_tags_way, ox.settings.useful_tags_node = useful_way, useful_node
    if len(graph) == 0:
        raise ValueError(f"{path} holds no walkable ways")
    return graph


def _width(data: dict) -> float:
    """Clear width in metres from the ``width`` tag, else a default for the street type."""
    raw = data.get("width")
    if isinstance(raw, list):
        raw = raw[0]
    if raw is not None:
        try:
            return max(0.5, float(str(raw).replace("m", "").strip()))
        except ValueError:
            pass
    highway = data.get("highway")
    if isinstance(highway, list):
        highway = highway[0]
    return DEFAULT_WIDTH_M.get(str(highway), FALLBACK_WIDTH_M)


@dataclass
class WalkNetwork:
    """Undirected links (arrays) over the nodes of an osmnx graph, plus the watched chokepoints."""

    node_ids: np.ndarray  # osm ids, index = node index
    node_x: np.ndarray  # metres east of the origin
    node_y: np.ndarray
    node_lat: np.ndarray
    node_lon: np.ndarray
    link_u: np.ndarray  # node indices
    link_v: np.ndarray
    link_length_m: np.ndarray
    link_width_m: np.ndarray
    link_name: list[str]
    node_tags: list[dict[str, str]]
    chokepoints: dict[str, int] = field(default_factory=dict)  # key -> link index
    chokepoint_info: dict[str, Chokepoint] = field(default_factory=dict)
    source: str = ""
    schematic: bool = False

    @property
    def n_nodes(self) -> int:
        return len(self.node_ids)

    @property
    def n_links(self) -> int:
        return len(self.link_u)

    @cached_property
    def link_area_m2(self) -> np.ndarray:
        return np.maximum(self.link_length_m * self.link_width_m, 1.0)

    def nearest_node(self, lat: float, lon: float) -> int:
        x, y = to_xy(lat, lon)
        return int(np.argmin((self.node_x - x) ** 2 + (self.node_y - y) ** 2))

    def nearest_link(self, lat: float, lon: float) -> int:
        """The link closest to a point (point-to-segment distance in metres)."""
        px, py = to_xy(lat, lon)
        ax, ay = self.node_x[self.link_u], self.node_y[self.link_u]
        bx, by = self.node_x[self.link_v], self.node_y[self.link_v]
        dx, dy = bx - ax, by - ay
        t = np.clip(((px - ax) * dx + (py - ay) * dy) / np.maximum(dx * dx + dy * dy, 1e-9), 0.0, 1.0)
        return int(np.argmin((ax + t * dx - px) ** 2 + (ay + t * dy - py) ** 2))

    def links_gdf(self) -> gpd.GeoDataFrame:
        """The links as a GeoDataFrame in WGS84, one row per undirected link."""
        geoms = [LineString([(self.node_lon[u], self.node_lat[u]), (self.node_lon[v], self.node_lat[v])])
                 for u, v in zip(self.link_u, self.link_v, strict=True)]
        chokepoint_of = {i: k for k, i in self.chokepoints.items()}
        return gpd.GeoDataFrame({
            "link": np.arange(self.n_links),
            "name": self.link_name,
            "length_m": self.link_length_m.round(1),
            "width_m": self.link_width_m,
            "chokepoint": [chokepoint_of.get(i, "") for i in range(self.n_links)],
        }, geometry=geoms, crs="EPSG:4326")

    def nodes_gdf(self) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame({
            "node": np.arange(self.n_nodes),
            "osmid": self.node_ids,
            "name": [t.get("name", "") for t in self.node_tags],
        }, geometry=[Point(x, y) for x, y in zip(self.node_lon, self.node_lat, strict=True)], crs="EPSG:4326")

    @cached_property
    def router(self) -> Router:
        return Router(self)


def walk_network(graph: nx.MultiDiGraph, source: str = "") -> WalkNetwork:
    """Collapse the directed multigraph into undirected links and locate the chokepoints."""
    node_ids = np.array(list(graph.nodes), dtype=np.int64)
    index = {int(n): i for i, n in enumerate(node_ids)}
    lat = np.array([graph.nodes[n]["y"] for n in node_ids], dtype=float)
    lon = np.array([graph.nodes[n]["x"] for n in node_ids], dtype=float)
    xy = np.array([to_xy(a, b) for a, b in zip(lat, lon, strict=True)])
    best: dict[tuple[int, int], tuple[float, float, str, str | None]] = {}
    for u, v, data in graph.edges(data=True):
        a, b = sorted((index[int(u)], index[int(v)]))
        if a == b:
            continue
        length = float(data.get("length") or np.hypot(*(xy[a] - xy[b])))
        name = data.get("name", "")
        name = name[0] if isinstance(name, list) else str(name or "")
        tag = data.get(CHOKEPOINT_TAG)
        if (a, b) not in best or length < best[(a, b)][0]:
            best[(a, b)] = (max(length, 1.0), _width(data), name, tag)
    keys = sorted(best)
    net = WalkNetwork(
        node_ids=node_ids, node_x=xy[:, 0], node_y=xy[:, 1], node_lat=lat, node_lon=lon,
        link_u=np.array([k[0] for k in keys], dtype=np.int32),
        link_v=np.array([k[1] for k in keys], dtype=np.int32),
        link_length_m=np.array([best[k][0] for k in keys]),
        link_width_m=np.array([best[k][1] for k in keys]),
        link_name=[best[k][2] for k in keys],
        node_tags=[{t: str(graph.nodes[n][t]) for t in [*EXTRA_NODE_TAGS, "railway", "highway"]
                    if graph.nodes[n].get(t) not in (None, "")} for n in node_ids],
        source=source,
    )
    tagged = {best[k][3]: i for i, k in enumerate(keys) if best[k][3]}
    net.schematic = bool(tagged)
    for cp in CHOKEPOINTS:
        link = tagged.get(cp.key, net.nearest_link(cp.lat, cp.lon))
        net.chokepoints[cp.key] = link
        net.chokepoint_info[cp.key] = cp
        if cp.key not in tagged:  # a real network rarely carries widths: use the surveyed clear width
            net.link_width_m[link] = cp.width_m
    return net


def load_network(path: Path | str = SCHEMATIC_OSM) -> WalkNetwork:
    """Load a file and prepare it for the engine."""
    net = walk_network(load_graph(path), source=str(path))
    log.info("network %s: %d nodes, %d links%s", path, net.n_nodes, net.n_links,
             " (schematic)" if net.schematic else "")
    return net


@dataclass
class PathTable:
    """Padded link sequences: ``links[p, k]`` is the k-th link of path p (-1 after its end)."""

    links: np.ndarray  # int32 [P, L]
    start_m: np.ndarray  # float64 [P, L], distance along the path where link k starts (inf when padded)
    length_m: np.ndarray  # float64 [P]


class Router:
    """Shortest walking paths from a few anchor nodes (stations, malls) to every node, cached."""

    def __init__(self, net: WalkNetwork) -> None:
        self.net = net
        n = net.n_nodes
        rows = np.concatenate([net.link_u, net.link_v])
        cols = np.concatenate([net.link_v, net.link_u])
        self._link_of = {(int(a), int(b)): i for i, (a, b) in enumerate(zip(rows, cols, strict=True))}
        self._link_of = {k: v % net.n_links for k, v in self._link_of.items()}
        self._n = n
        self._rows, self._cols = rows, cols
        self._trees: dict[tuple[int, tuple[int, ...]], tuple[np.ndarray, np.ndarray]] = {}
        self._paths: dict[tuple[int, int, tuple[int, ...]], list[int]] = {}

    def _tree(self, source: int, avoid: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        key = (source, avoid)
        if key not in self._trees:
            weights = np.concatenate([self.net.link_length_m, self.net.link_length_m]).copy()
            for link in avoid:  # a strong penalty, not a ban: some places have no other way
                weights[link] *= 50.0
                weights[link + self.net.n_links] *= 50.0
            graph = csr_matrix((weights, (self._rows, self._cols)), shape=(self._n, self._n))
            dist, pred = dijkstra(graph, directed=True, indices=source, return_predecessors=True)
            self._trees[key] = (dist, pred)
        return self._trees[key]

    def distances_from(self, source: int) -> np.ndarray:
        return self._tree(source, ())[0]

    def path_links(self, anchor: int, other: int, avoid: tuple[int, ...] = ()) -> list[int]:
        """Links from ``anchor`` to ``other`` (reverse the list to walk the other way)."""
        key = (anchor, other, avoid)
        if key not in self._paths:
            _, pred = self._tree(anchor, avoid)
            nodes = [other]
            while nodes[-1] != anchor:
                p = pred[nodes[-1]]
                if p < 0:
                    raise ValueError(f"node {other} cannot be reached from {anchor}")
                nodes.append(int(p))
            nodes.reverse()
            self._paths[key] = [self._link_of[(a, b)] for a, b in itertools.pairwise(nodes)]
        return self._paths[key]

    def table(self, sequences: list[list[int]]) -> PathTable:
        """Pack link sequences into padded arrays for the vectorised engine."""
        width = max(1, max(len(s) for s in sequences))
        links = np.full((len(sequences), width), -1, dtype=np.int32)
        start = np.full((len(sequences), width), np.inf)
        total = np.zeros(len(sequences))
        lengths = self.net.link_length_m
        for p, seq in enumerate(sequences):
            if not seq:
                continue
            arr = np.asarray(seq, dtype=np.int32)
            links[p, : len(arr)] = arr
            cum = np.cumsum(lengths[arr])
            start[p, : len(arr)] = np.concatenate([[0.0], cum[:-1]])
            total[p] = cum[-1]
        return PathTable(links=links, start_m=start, length_m=total)
