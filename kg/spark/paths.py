"""SPARQL property paths on the Spark store.

Sequences (``a/b``) and inverses (``^a``) of plain predicates are written out as triple patterns
with fresh variables (``expand``), so the join order and the spatial planning see ordinary
patterns (as Oxigraph's parser does). Every other path (alternatives ``a|b``, ``a*``, ``a+``,
``a?``, negated sets ``!(a|^b)``, and anything nested in them) stays one pattern whose pairs
``path_pairs`` computes as a DataFrame (s, o[, g]); the pattern gives each pair once, as the
embedded store does (and Jena; SPARQL 1.1's text would repeat a pair an alternative reaches twice):

- alternatives are the union of their branches;
- ``*``, ``+`` and ``?`` give distinct pairs (SPARQL's set semantics for them); the transitive
  closure grows one step per Spark job until a step finds nothing new, starting from the constant
  end when there is one; the zero-length pairs of ``*`` and ``?`` pair each term of the active
  graph (its subjects and objects) with itself, only the pattern's constant ends if it has any;
- a negated set reads every table but those it names.

Under ``GRAPH ?g`` each graph's pairs are its own (the ``g`` column joins the steps). The closure
runs its jobs while the query is translated, so a query's timeout does not cover them.
"""

from __future__ import annotations

from itertools import count

from rdflib import URIRef, Variable
from rdflib.paths import AlternativePath, InvPath, MulPath, NegatedPath, SequencePath

from kg.errors import UnsupportedFeature


def expand(triples) -> list:
    """The triple patterns with sequence and inverse paths written out with fresh variables; other
    paths are kept as one pattern each (``(s, path, o)``)."""
    out = []
    fresh = count()
    pending = list(triples)
    while pending:
        s, p, o = pending.pop(0)
        if isinstance(p, SequencePath):
            nodes = [s] + [Variable(f"__path{next(fresh)}_{id(p)}") for _ in p.args[1:]] + [o]
            pending[:0] = [(nodes[i], step, nodes[i + 1]) for i, step in enumerate(p.args)]
        elif isinstance(p, InvPath):
            pending.insert(0, (o, p.arg, s))
        else:
            out.append((s, p, o))
    return out


def path_pairs(compiler, path, graph, ends: tuple = ()):
    """DataFrame (s, o[, g]) of the pairs the path links in the active graph; ``g`` when ``graph`` is
    a variable. ``ends``: the pattern's constant subject and object (N-Triples), for zero-length
    pairs."""
    F = compiler.F
    keys = ["g"] if isinstance(graph, Variable) else []
    if isinstance(path, URIRef):
        table = compiler.t.scan(f"<{path}>")
        if table is None:
            return _no_pairs(compiler, keys)
        return compiler._in_graph(table, graph).select("s", "o", *keys)
    if isinstance(path, InvPath):
        inner = path_pairs(compiler, path.arg, graph)
        return inner.select(F.col("o").alias("s"), F.col("s").alias("o"), *keys)
    if isinstance(path, SequencePath):
        frame = path_pairs(compiler, path.args[0], graph)
        for step in path.args[1:]:
            frame = _step(frame, path_pairs(compiler, step, graph), keys, F)
        return frame
    if isinstance(path, AlternativePath):
        frames = [path_pairs(compiler, branch, graph) for branch in path.args]
        out = frames[0]
        for frame in frames[1:]:
            out = out.unionByName(frame)
        return out
    if isinstance(path, NegatedPath):
        return _negated(compiler, path, graph, keys)
    if isinstance(path, MulPath):
        edges = path_pairs(compiler, path.path, graph).distinct()
        if path.mod == "?":
            return edges.unionByName(_zero_length(compiler, graph, keys, ends)).distinct()
        subject, object_ = (ends + (None, None))[:2]
        reachable = _closure(edges, keys, F, subject=subject, object_=object_)
        if path.mod == "*":
            reachable = reachable.unionByName(_zero_length(compiler, graph, keys, ends)).distinct()
        return reachable
    raise UnsupportedFeature(f"The property path {path.n3()}", "Spark store")


def _step(left, right, keys, F):
    """Pairs (a, c) with (a, b) in ``left`` and (b, c) in ``right``, in the same graph. Both sides are
    renamed first: they may be the same table (``a/a``), whose columns Spark could not tell apart."""
    left = left.select("s", "o", *keys).toDF("_s", "_b", *[f"_l{k}" for k in keys])
    right = right.select("s", "o", *keys).toDF("_m", "_o", *[f"_r{k}" for k in keys])
    condition = [F.col("_b") == F.col("_m"), *[F.col(f"_l{k}") == F.col(f"_r{k}") for k in keys]]
    return left.join(right, on=condition).select(F.col("_s").alias("s"), F.col("_o").alias("o"),
                                                 *[F.col(f"_l{k}").alias(k) for k in keys])


def _closure(edges, keys, F, *, subject=None, object_=None):
    """The distinct pairs linked by one or more edges, grown from the constant end if there is one."""
    if subject is None and object_ is not None:  # grow backwards from the object: the reversed edges
        reversed_ = edges.select(F.col("o").alias("s"), F.col("s").alias("o"), *keys)
        found = _closure(reversed_, keys, F, subject=object_)
        return found.select(F.col("o").alias("s"), F.col("s").alias("o"), *keys)
    reached = edges if subject is None else edges.filter(F.col("s") == subject)
    reached = reached.localCheckpoint()  # each round reads the last one's result, not its lineage
    frontier = reached
    while True:
        new = _step(frontier, edges, keys, F).distinct().subtract(reached).localCheckpoint()
        if new.isEmpty():
            return reached
        reached, frontier = reached.unionByName(new).localCheckpoint(), new


def _zero_length(compiler, graph, keys, ends):
    """(x, x[, g]) for every term of the active graph (its subjects and objects), only the pattern's
    constant ends if it has any (a constant the graph does not hold has no zero-length path: the
    embedded store's rule)."""
    F = compiler.F
    triples = compiler._in_graph(compiler.t.all_triples(), graph)
    terms = triples.select(F.col("s").alias("x"), *keys).unionByName(triples.select(F.col("o").alias("x"), *keys))
    constants = [e for e in ends if e is not None]
    if constants:
        terms = terms.filter(F.col("x").isin(constants))
    return terms.distinct().select(F.col("x").alias("s"), F.col("x").alias("o"), *keys)


def _negated(compiler, path, graph, keys):
    """Pairs linked by a predicate the set does not name (forward), or reversed by one its inverse
    part does not name."""
    F = compiler.F
    forward = [f"<{p}>" for p in path.args if isinstance(p, URIRef)]
    inverse = [f"<{p.arg}>" for p in path.args if isinstance(p, InvPath)]
    triples = compiler._in_graph(compiler.t.all_triples(), graph)
    frames = []
    if forward or not inverse:
        frames.append(triples.filter(~F.col("p").isin(forward)).select("s", "o", *keys))
    if inverse:
        frames.append(triples.filter(~F.col("p").isin(inverse)).select(F.col("o").alias("s"), F.col("s").alias("o"), *keys))
    return frames[0] if len(frames) == 1 else frames[0].unionByName(frames[1])


def _no_pairs(compiler, keys):
    F = compiler.F
    names = ["s", "o", *keys]
    return compiler._unit().select(*[F.lit(None).cast("string").alias(n) for n in names]).limit(0)
