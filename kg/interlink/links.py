"""The links of a run as RDF, with its provenance, into a named graph of the store or into a file.

Each related pair gives one triple per relation that holds, ``<source> geo:sfWithin <target>``
(never a disjoint one). The provenance is in the same graph (see docs/interlink.md): the graph
``prov:wasGeneratedBy`` the run, a ``prov:Activity`` with its times, its datasets (``prov:used``)
and, in our small vocabulary ``il:``, its method, weighting, budget, engine, grid and counts.
Everything is written at the end, in one transaction (a store) or by renaming a finished file.
"""

from __future__ import annotations

import secrets
import tempfile
from pathlib import Path

import numpy as np
import pyoxigraph as ox

from kg.errors import GeoKGError
from kg.formats import rdf_format_of_file
from kg.geosparql.vocab import GEO, XSD
from kg.interlink.run import Interlinking
from kg.interlink.verification import BITS
from kg.store import Store

IL = "https://w3id.org/eekg/ont/interlink#"
PROV = "http://www.w3.org/ns/prov#"
RUNS = "https://w3id.org/eekg/data/interlink/"
_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
_DATASETS = (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG)


def new_run_iri(run: Interlinking) -> str:
    """A fresh IRI for a run: its start time and a random suffix."""
    return f"{RUNS}{run.started:%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"


def default_graph(run_iri: str) -> str:
    return run_iri + "/links"


def link_lines(run: Interlinking) -> list[str]:
    """The links as N-Triples lines, by source, target, then relation."""
    found = run.found
    s_iris, t_iris = run.source.iris[found.s], run.target.iris[found.t]
    lines, order = [], []
    for name in run.plan.relations:
        holds = np.flatnonzero(found.masks & BITS[name])
        predicate = f"> <{GEO}{name}> <"
        lines.extend(f"<{a}{predicate}{b}> .\n" for a, b in zip(s_iris[holds].tolist(), t_iris[holds].tolist()))
        order.append(holds * 16 + BITS[name].bit_length())
    if not lines:
        return []
    return np.array(lines, dtype=object)[np.argsort(np.concatenate(order), kind="stable")].tolist()


def provenance_lines(run: Interlinking, run_iri: str, graph: str) -> list[str]:
    """The run's provenance (docs/interlink.md) as N-Triples lines."""
    found, plan, grid = run.found, run.plan, run.grid
    facts = [
        (_TYPE, f"<{PROV}Activity>"), (_TYPE, f"<{IL}Interlinking>"),
        (f"<{PROV}startedAtTime>", _time(run.started)), (f"<{PROV}endedAtTime>", _time(run.ended)),
        (f"<{IL}method>", _string(plan.method)), (f"<{IL}engine>", _string(run.engine)),
        (f"<{IL}crs>", f"<{run.crs}>"), (f"<{IL}granularity>", _double(plan.granularity)),
        (f"<{IL}tileWidth>", _double(grid.width)), (f"<{IL}tileHeight>", _double(grid.height)),
        (f"<{IL}tiles>", _integer(grid.tiles)),
        (f"<{IL}candidatePairs>", _integer(found.candidates)), (f"<{IL}verifiedPairs>", _integer(found.verified)),
        (f"<{IL}relatedPairs>", _integer(found.related)), (f"<{IL}links>", _integer(run.links)),
        (f"<{IL}seconds>", _double(round(run.seconds, 3))),
    ]
    facts += [(f"<{IL}relation>", f"<{GEO}{name}>") for name in plan.relations]
    if plan.progressive:
        facts.append((f"<{IL}weighting>", _string(plan.weighting.text)))
    if plan.budget is not None:
        facts.append((f"<{IL}budget>", _integer(plan.budget)))
    lines = [f"<{graph}> <{PROV}wasGeneratedBy> <{run_iri}> .\n"]
    lines += [f"<{run_iri}> {p} {o} .\n" for p, o in facts]
    for role, dataset in (("source", run.source), ("target", run.target)):
        node = f"<{run_iri}/{role}>"
        lines += [f"<{run_iri}> <{PROV}used> {node} .\n", f"<{run_iri}> <{IL}{role}> {node} .\n",
                  f"{node} {_TYPE} <{IL}Dataset> .\n", f"{node} <{IL}selection> {_string(dataset.description)} .\n",
                  f"{node} <{IL}entities> {_integer(len(dataset))} .\n"]
        for reason, count in run.left_out[role].items():
            lines.append(f"{node} <{IL}leftOut{reason.capitalize()}> {_integer(count)} .\n")
    return lines


def check_graph_free(store: Store, graph: str, replace: bool) -> None:
    """Refuse to add links to a graph that already holds triples, unless replacing it."""
    if not replace and store.graph_exists(graph) and store.query(f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}").boolean():
        raise GeoKGError(f"The graph <{graph}> already holds triples; give another --graph, or --replace to replace its content.")


def write_to_store(run: Interlinking, store: Store, graph: str | None = None, *, replace: bool = False) -> tuple[str, int]:
    """Write the links and the provenance into ``graph`` (default: a new one named after the run),
    all or nothing (the store's bulk load); with ``replace``, they replace the graph's content in one
    update. (graph, triples)."""
    run_iri = new_run_iri(run)
    graph = graph or default_graph(run_iri)
    _check_iri(graph, "graph")
    check_graph_free(store, graph, replace)
    lines = link_lines(run) + provenance_lines(run, run_iri, graph)
    if replace:  # one SPARQL update drops the graph and inserts the new content
        store.load_data("".join(lines).encode(), "ntriples", graph=graph, replace=True)
        return graph, len(lines)
    with tempfile.TemporaryDirectory() as directory:  # the store's bulk load: all or nothing, 5x load_data's speed
        path = Path(directory) / "links.nt"
        path.write_text("".join(lines), encoding="utf-8")
        store.load([path], format="ntriples", graph=graph)
    return graph, len(lines)


def write_to_file(run: Interlinking, path: Path, graph: str | None = None) -> tuple[str, int]:
    """Write the links and the provenance to an RDF file (format from its name; N-Quads and TriG
    put them in ``graph``). Written beside and renamed, so the file is whole or absent."""
    path = Path(path)
    rdf = rdf_format_of_file(path)
    if path.name.lower().endswith(".gz"):
        raise GeoKGError(f"{path}: links are written uncompressed; name the file without .gz.")
    run_iri = new_run_iri(run)
    graph = graph or default_graph(run_iri)
    _check_iri(graph, "graph")
    text = "".join(link_lines(run) + provenance_lines(run, run_iri, graph))
    partial = path.with_name(f".{path.name}.partial")
    try:
        if rdf == ox.RdfFormat.N_TRIPLES:
            partial.write_text(text, encoding="utf-8")
        else:
            into = ox.NamedNode(graph) if rdf in _DATASETS else ox.DefaultGraph()
            quads = (ox.Quad(q.subject, q.predicate, q.object, into) for q in ox.parse(text.encode(), ox.RdfFormat.N_TRIPLES))
            ox.serialize(quads, str(partial), rdf, prefixes={"geo": GEO, "prov": PROV, "il": IL})
        partial.replace(path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise GeoKGError(f"Cannot write {path}: {error.strerror or error}.") from None
    return graph, text.count("\n")


def _check_iri(iri: str, what: str) -> None:
    try:
        ox.NamedNode(iri)
    except ValueError as error:
        raise GeoKGError(f"The {what} {iri!r} is not a valid IRI ({error}).") from None


def _string(value: str) -> str:
    return ox.Literal(value).__str__()


def _integer(value: int) -> str:
    return f'"{int(value)}"^^<{XSD}integer>'


def _double(value: float) -> str:
    return f'"{float(value)!r}"^^<{XSD}double>'


def _time(moment) -> str:
    return f'"{moment.isoformat().replace("+00:00", "Z")}"^^<{XSD}dateTime>'
