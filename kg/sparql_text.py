"""Checks on SPARQL text made before the engine sees it.

pyoxigraph would fetch any URL named by ``SERVICE`` (queries) or ``LOAD`` (updates); a public
endpoint must never do that, so both are refused here. Remote sources are the federation's job.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pyoxigraph import Literal, NamedNode

from kg.errors import QuerySyntaxError, UnsupportedFeature

# Strings, IRIs and comments are blanked out before looking for keywords.
_OPAQUE = re.compile(
    r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|<[^<>"{}|^`\\\s]*>|#[^\n]*'
)
_ERROR_POSITION = re.compile(r"^error at (\d+):(\d+): ")


def keywords_present(sparql: str, *keywords: str) -> set[str]:
    """The keywords among ``keywords`` that occur in ``sparql`` as keywords, not in strings or names.

    >>> sorted(keywords_present('SELECT * { SERVICE <x> { ?service ex:SERVICE "SERVICE" } }', "SERVICE"))
    ['SERVICE']
    >>> keywords_present('SELECT ?service { ?s ex:LOAD "load" }', "SERVICE", "LOAD")
    set()
    """
    code = _OPAQUE.sub(" ", sparql)
    found = set()
    for keyword in keywords:
        if re.search(rf"(?<![\w:?$]){keyword}(?![\w:-])", code, re.IGNORECASE):
            found.add(keyword)
    return found


def refuse_remote_access(sparql: str, *, update: bool) -> None:
    """Raise if the query or update would make the engine contact another server."""
    if keywords_present(sparql, "SERVICE"):
        raise UnsupportedFeature(
            "SPARQL SERVICE (federated query)",
            hint="The store never contacts other servers; query remote endpoints through the federation.",
        )
    if update and keywords_present(sparql, "LOAD"):
        raise UnsupportedFeature(
            "SPARQL Update LOAD",
            hint="The store never fetches URLs; load files with `eekg load` or send them to the Graph Store endpoint.",
        )


_DISTINCT_AGGREGATE = re.compile(  # geof:aggUnion(DISTINCT ...): pyoxigraph's parser takes no DISTINCT there
    r"\bagg(?:BoundingBox|BoundingCircle|Centroid|ConcaveHull|ConvexHull|Union)>?\s*\(\s*DISTINCT\b", re.IGNORECASE)


def syntax_error(error: SyntaxError, sparql: str = "") -> QuerySyntaxError:
    """Our error for a pyoxigraph SPARQL syntax error ('error at 1:25: expected ...'), with a hint
    where pyoxigraph's own words would not help (``sparql``: the query's text).

    >>> syntax_error(SyntaxError("error at 1:24: expected ENCODE_FOR_URI"), "SELECT (geof:aggUnion(DISTINCT ?g) AS ?u) {}").message
    'SPARQL syntax error at line 1, column 24: expected ENCODE_FOR_URI. The GeoSPARQL aggregates take no DISTINCT: aggregate the rows of a SELECT DISTINCT subquery instead.'
    """
    message = str(error)
    if _DISTINCT_AGGREGATE.search(sparql):
        message += ". The GeoSPARQL aggregates take no DISTINCT: aggregate the rows of a SELECT DISTINCT subquery instead."
    match = _ERROR_POSITION.match(message)
    if match:
        return QuerySyntaxError(message[match.end():], int(match.group(1)), int(match.group(2)))
    return QuerySyntaxError(message)


_PREFIX_DECLARATION = re.compile(r"PREFIX\s+([\w.-]*):\s*<([^>]*)>", re.IGNORECASE)
_TYPED_LITERAL = re.compile(
    r'("""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\')\^\^(?:<([^>]*)>|([\w.-]*):([\w.-]*))'
)
_ESCAPES = {"\\\\": "\\", '\\"': '"', "\\'": "'", "\\n": "\n", "\\t": "\t", "\\r": "\r"}


def typed_literals(sparql: str, datatypes: Iterable[str], prefixes: dict[str, str]) -> list[Literal]:
    """The literals of the given datatypes written in SPARQL text (``"..."^^geo:wktLiteral``).

    >>> [l.value for l in typed_literals('PREFIX g: <http://g#> INSERT DATA { <a> <b> "P(1)"^^g:w }', ["http://g#w"], {})]
    ['P(1)']
    """
    wanted = set(datatypes)
    known = dict(prefixes)
    known.update({m.group(1): m.group(2) for m in _PREFIX_DECLARATION.finditer(sparql)})
    found = []
    for match in _TYPED_LITERAL.finditer(sparql):
        quoted, iri, prefix, local = match.groups()
        datatype = iri if iri is not None else known.get(prefix, "\0") + local
        if datatype in wanted:
            body = quoted[3:-3] if quoted[:3] in ('"""', "'''") else quoted[1:-1]
            body = re.sub(r"\\.", lambda e: _ESCAPES.get(e.group(0), e.group(0)), body)
            found.append(Literal(body, datatype=NamedNode(datatype)))
    return found


def names_in_namespace(sparql: str, namespace: str, prefixes: dict[str, str]) -> set[str]:
    """Local names of the IRIs in ``namespace`` that the text uses, written in full or prefixed.

    >>> sorted(names_in_namespace('PREFIX f: <http://f/> SELECT (f:a(?x) AS ?y) { ?x <http://f/b> "f:c" }', "http://f/", {}))
    ['a', 'b']
    """
    known = dict(prefixes)
    known.update({m.group(1): m.group(2) for m in _PREFIX_DECLARATION.finditer(sparql)})
    aliases = [re.escape(p) for p, iri in known.items() if iri == namespace]
    names = set(re.findall(rf"<{re.escape(namespace)}([\w.-]+)>", sparql))
    if aliases:
        code = _OPAQUE.sub(" ", sparql)
        names |= set(re.findall(rf"(?<![\w:?$])(?:{'|'.join(aliases)}):([\w-]+(?:\.[\w-]+)*)", code))
    return names
