"""The shipped schematic network loads with osmnx from OSM XML and from GraphML, and is usable."""

from __future__ import annotations

import networkx as nx
import osmnx as ox

from simulator.network import load_graph, load_network
from simulator.network_build import build_network, write_osm_xml
from simulator.paths import SCHEMATIC_OSM
from simulator.places import CHOKEPOINTS, GATES, MALLS


def test_shipped_osm_xml_loads_as_connected_walk_graph():
    """osmnx reads the committed OSM XML into one connected graph of a few hundred nodes."""
    graph = ox.graph_from_xml(SCHEMATIC_OSM, simplify=False, retain_all=True)
    assert len(graph) > 300
    assert nx.number_weakly_connected_components(graph) == 1


def test_every_chokepoint_is_a_tagged_link(net):
    """All chokepoints are found by their tag on the schematic network, with their clear width."""
    assert net.schematic
    assert set(net.chokepoints) == {c.key for c in CHOKEPOINTS}
    assert len(set(net.chokepoints.values())) == len(CHOKEPOINTS)
    assert net.link_width_m[net.chokepoints["free_passage"]] == 12.0


def test_graphml_copy_gives_the_same_network(net, tmp_path):
    """A GraphML written from the OSM XML graph loads to the same links, lengths and chokepoints."""
    path = tmp_path / "ebina.graphml"
    ox.save_graphml(load_graph(SCHEMATIC_OSM), path)
    again = load_network(path)
    assert again.n_links == net.n_links
    assert again.chokepoints == net.chokepoints
    assert abs(again.link_length_m.sum() - net.link_length_m.sum()) < 1e-6


def test_stations_and_malls_are_reachable_from_each_other(net):
    """Every gate reaches both shopping centres, and JR is reached via the free passage."""
    router = net.router
    gates = {k: net.nearest_node(g.lat, g.lon) for k, g in GATES.items()}
    for mall in MALLS.values():
        node = net.nearest_node(mall.lat, mall.lon)
        for gate in gates.values():
            assert router.path_links(gate, node)
    path = router.path_links(gates["odakyu"], gates["jr"])
    assert net.chokepoints["free_passage"] in path


def test_generator_is_deterministic(tmp_path):
    """Building the network twice writes the same file, equal to the committed one."""
    a = write_osm_xml(build_network(), tmp_path / "a.osm").read_text(encoding="utf-8")
    b = write_osm_xml(build_network(), tmp_path / "b.osm").read_text(encoding="utf-8")
    assert a == b == SCHEMATIC_OSM.read_text(encoding="utf-8")


def test_schematic_label_and_attribution_in_file():
    """The file says it is schematic and credits OpenStreetMap for the points of interest."""
    text = SCHEMATIC_OSM.read_text(encoding="utf-8")[:2000]
    assert "schematic" in text
    assert "OpenStreetMap contributors" in text


def test_layers_are_geodataframes(net):
    """Links and nodes come out as geopandas layers in WGS84."""
    links, nodes = net.links_gdf(), net.nodes_gdf()
    assert len(links) == net.n_links and links.crs.to_epsg() == 4326
    assert len(nodes) == net.n_nodes
    assert (links["chokepoint"] != "").sum() == len(CHOKEPOINTS)


def test_untagged_network_finds_the_same_chokepoints_by_position(net):
    """On a network without our tags (as a real OSM download), chokepoints snap to the same links."""
    from simulator.network import walk_network
    from simulator.network_build import CHOKEPOINT_TAG

    graph = load_graph(SCHEMATIC_OSM)
    for _, _, data in graph.edges(data=True):
        data.pop(CHOKEPOINT_TAG, None)
    plain = walk_network(graph)
    assert not plain.schematic
    assert plain.chokepoints == net.chokepoints
