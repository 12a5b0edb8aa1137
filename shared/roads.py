"""The drive network of the Ebina area and travel times on it by hour of day, for every service that moves
vehicles (rides and parcels).

The shipped network is schematic (``data/osm/ebina_schematic_drive.osm``, built from real positions); a
real OSM extract in the same format (``.osm`` XML or osmnx GraphML) loads the same way. Speeds come from
``maxspeed`` (or the street type) scaled by an hour-of-day congestion factor; times between all places
are exact shortest paths (Dijkstra over the whole graph), so they obey the triangle inequality that the
dispatchers' pruning relies on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import osmnx as ox
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

REPO_ROOT = Path(__file__).resolve().parent.parent
DRIVE_OSM = REPO_ROOT / "data" / "osm" / "ebina_schematic_drive.osm"
DEFAULT_KMH = {"primary": 40.0, "secondary": 40.0, "tertiary": 30.0, "residential": 30.0, "service": 20.0}
EXTRA_NODE_TAGS = ["name", "amenity", "shop", "ref", "charging", "depot"]

# Share of free-flow speed by hour (local time): rush hours on main roads are the slowest.
MAIN_FACTOR = (1.0,) * 6 + (0.8, 0.6, 0.6, 0.75) + (0.85,) * 6 + (0.75, 0.6, 0.6, 0.8) + (0.9,) * 4
SIDE_FACTOR = (1.0,) * 6 + (0.9, 0.8, 0.8, 0.9) + (0.95,) * 6 + (0.9, 0.8, 0.8, 0.9) + (1.0,) * 4


@dataclass
class RoadNetwork:
    """Nodes (index 0..n-1) with positions and tags; directed edges with length and free-flow speed."""

    lat: np.ndarray
    lon: np.ndarray
    tags: list[dict[str, str]]
    tail: np.ndarray
    head: np.ndarray
    length_m: np.ndarray
    kmh: np.ndarray
    main: np.ndarray              # bool per edge: a main road (congests more)
    source: str = ""
    _cache: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def n_nodes(self) -> int:
        return len(self.lat)

    def nodes_with(self, key: str, value: str | None = None) -> list[int]:
        return [i for i, t in enumerate(self.tags) if key in t and (value is None or t[key] == value)]

    def nearest(self, lat: float, lon: float) -> int:
        dy = (self.lat - lat) * 110_950.0
        dx = (self.lon - lon) * 111_320.0 * np.cos(np.radians(lat))
        return int(np.argmin(dx * dx + dy * dy))

    def edge_seconds(self, hour: int) -> np.ndarray:
        factor = np.where(self.main, MAIN_FACTOR[hour % 24], SIDE_FACTOR[hour % 24])
        return self.length_m / (self.kmh * factor / 3.6)

    def all_seconds(self, hour: int) -> np.ndarray:
        """Shortest travel time (s, float) between all nodes at ``hour``."""
        if hour % 24 not in self._cache:
            graph = csr_matrix((self.edge_seconds(hour), (self.tail, self.head)), shape=(self.n_nodes,) * 2)
            self._cache[hour % 24] = dijkstra(graph, directed=True)
        return self._cache[hour % 24]

    @cached_property
    def all_metres(self) -> np.ndarray:
        graph = csr_matrix((self.length_m, (self.tail, self.head)), shape=(self.n_nodes,) * 2)
        return dijkstra(graph, directed=True)

    def seconds(self, places: list[int], hour: int) -> np.ndarray:
        """Integer seconds between ``places`` (node indices) at ``hour``, rounded up."""
        sub = self.all_seconds(hour)[np.ix_(places, places)]
        if not np.isfinite(sub).all():
            raise ValueError("some places cannot be reached from others by road")
        return np.ceil(sub).astype(np.int64)

    def metres(self, places: list[int]) -> np.ndarray:
        return np.rint(self.all_metres[np.ix_(places, places)]).astype(np.int64)


def _kmh(data: dict) -> float:
    raw = data.get("maxspeed")
    if isinstance(raw, list):
        raw = raw[0]
    try:
        return float(str(raw).split()[0])
    except (TypeError, ValueError):
        highway = data.get("highway")
        highway = highway[0] if isinstance(highway, list) else highway
        return DEFAULT_KMH.get(str(highway), 30.0)


def load_drive_network(path: Path | str = DRIVE_OSM) -> RoadNetwork:
    """Read OSM XML or GraphML with osmnx (offline) into arrays."""
    path = Path(path)
    useful = list(ox.settings.useful_tags_node)
    ox.settings.useful_tags_node = sorted(set(useful) | set(EXTRA_NODE_TAGS))
    try:
        if path.suffix == ".graphml":
            graph = ox.load_graphml(path)
        else:
            graph = ox.graph_from_xml(path, bidirectional=False, simplify=False, retain_all=False)
    finally:
        ox.settings.useful_tags_node = useful
    if len(graph) == 0:
        raise ValueError(f"{path} holds no drivable ways")
    ids = list(graph.nodes)
    index = {n: k for k, n in enumerate(ids)}
    tags = [{k: str(v) for k, v in graph.nodes[n].items() if k in EXTRA_NODE_TAGS} for n in ids]
    tail, head, length, kmh, main = [], [], [], [], []
    for u, v, data in graph.edges(data=True):
        tail.append(index[u])
        head.append(index[v])
        length.append(float(data.get("length", 1.0)))
        kmh.append(_kmh(data))
        hw = data.get("highway")
        main.append((hw[0] if isinstance(hw, list) else hw) in ("primary", "secondary", "trunk"))
    return RoadNetwork(
        lat=np.array([graph.nodes[n]["y"] for n in ids]), lon=np.array([graph.nodes[n]["x"] for n in ids]),
        tags=tags, tail=np.array(tail), head=np.array(head), length_m=np.array(length), kmh=np.array(kmh),
        main=np.array(main, dtype=bool), source=str(path),
    )
