"""The group structure of SPARQL query text, with character positions, for the spatial planner.

The planner rewrites query text (it adds ``VALUES`` blocks and replaces filter conjuncts), so it
needs what an algebra loses: where each group graph pattern, filter and triples statement is in
the text. This is a tokenizer and a recursive scan of groups, not a full SPARQL parser: anything it
does not understand raises :class:`NotUnderstood`, and the planner then leaves the query alone.

>>> query = scan("SELECT ?f { ?f geo:asWKT ?g . FILTER(geof:sfWithin(?g, ?h)) OPTIONAL { ?f ex:p ?h } }")
>>> group = query.where
>>> [s.text for s in group.statements], sorted(group.triple_variables), len(group.children)
(['?f geo:asWKT ?g'], ['f', 'g'], 1)
>>> [t.text for t in group.filters[0].expression]
['(', 'geof:sfWithin', '(', '?g', ',', '?h', ')', ')']
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TOKEN = re.compile(
    r"""(?P<space>\s+|\#[^\n]*)
    |(?P<string>\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
    |(?P<iri><[^<>"{}|^`\\\s]*>)
    |(?P<datatype>\^\^)
    |(?P<variable>[?$][A-Za-z0-9_\u00B7-\uFFFF]+)
    |(?P<number>\d*\.\d+(?:[eE][+-]?\d+)?|\d+\.\d*[eE][+-]?\d+|\d+(?:[eE][+-]?\d+)?)
    |(?P<lang>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
    |(?P<bnode>_:[\w.-]*\w)
    |(?P<pname>(?:[A-Za-z][\w.-]*)?:(?:[\w:%-]|\.(?=[\w:%-]))*)
    |(?P<word>[A-Za-z_]\w*)
    |(?P<punct>&&|\|\||!=|<=|>=|[<>=!(){}\[\].,;*/|^+?-])""",
    re.VERBOSE,
)
# Keywords that start a graph pattern other than a triples block, inside a group.
_PATTERN_KEYWORDS = {"OPTIONAL", "MINUS", "GRAPH", "SERVICE", "FILTER", "BIND", "VALUES", "UNION"}


class NotUnderstood(Exception):
    """The text uses something the scan does not follow; the query is then run as written."""


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int
    end: int


@dataclass
class Statement:
    """One triples statement (``subject predicate-object list``), its text span and variables."""

    start: int
    end: int
    text: str
    tokens: list[Token]
    variables: frozenset[str]


@dataclass
class Filter:
    """A FILTER: the span of the whole clause and the tokens of its constraint (brackets kept)."""

    start: int
    end: int
    expression: list[Token]


@dataclass
class Group:
    """A group graph pattern ``{ ... }``: ``open``/``close`` are the offsets of its braces."""

    open: int
    close: int
    graph: str | None  # the nearest enclosing GRAPH term (text), None for the default graph
    statements: list[Statement] = field(default_factory=list)
    filters: list[Filter] = field(default_factory=list)
    children: list["Group"] = field(default_factory=list)
    ordered: bool = False  # holds OPTIONAL, MINUS, BIND, VALUES, a subquery or SERVICE: element order matters
    subquery: bool = False  # ``{ SELECT ... }``
    joined: bool = True  # joined with its parent (a GRAPH block, a plain nested group), not optional,
    # a UNION branch, MINUS, EXISTS or a subquery's WHERE: its triple patterns bind the parent's rows too

    @property
    def triple_variables(self) -> set[str]:
        return set().union(*(s.variables for s in self.statements)) if self.statements else set()

    def binding(self, variable: str) -> "Group | None":
        """The group, this one or one joined into it, whose triple patterns bind ``variable``: then
        every row of this group binds it to a term of the store."""
        if variable in self.triple_variables:
            return self
        for child in self.children:
            found = child.binding(variable) if child.joined and not child.subquery else None
            if found is not None:
                return found
        return None

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass
class Query:
    text: str
    form: str  # SELECT, ASK, CONSTRUCT, DESCRIBE
    form_start: int  # offset of the form keyword: the text before it is the prologue
    dataset: str  # the FROM / FROM NAMED clauses, as written
    where: Group | None
    prefixes: dict[str, str]


def tokenize(text: str) -> list[Token]:
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise NotUnderstood(f"unexpected character at {position}")
        kind = match.lastgroup
        if kind != "space":
            tokens.append(Token(kind, match.group(), match.start(), match.end()))
        position = match.end()
    return tokens


def scan(text: str) -> Query:
    """The query's groups; raises NotUnderstood for text the scan does not follow (or an update)."""
    tokens = tokenize(text)
    scanner = _Scanner(text, tokens)
    return scanner.query()


class _Scanner:
    def __init__(self, text: str, tokens: list[Token]):
        self.text, self.tokens, self.i = text, tokens, 0

    def peek(self, offset: int = 0) -> Token | None:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else None

    def upper(self, offset: int = 0) -> str:
        token = self.peek(offset)
        return token.text.upper() if token is not None and token.kind == "word" else ""

    def next(self) -> Token:
        token = self.peek()
        if token is None:
            raise NotUnderstood("unexpected end of the query")
        self.i += 1
        return token

    def query(self) -> Query:
        prefixes = {}
        while self.upper() in ("PREFIX", "BASE"):
            if self.next().text.upper() == "PREFIX":
                name, iri = self.next(), self.next()
                if name.kind != "pname" or iri.kind != "iri":
                    raise NotUnderstood("PREFIX declaration")
                prefixes[name.text[:-1]] = iri.text[1:-1]
            else:
                self.next()
        form_token = self.next()
        form = form_token.text.upper()
        if form not in ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE"):
            raise NotUnderstood("not a query")
        if form == "CONSTRUCT" and self.peek() is not None and self.peek().text == "{":
            self.skip_brackets()  # the template
        elif form == "CONSTRUCT":
            raise NotUnderstood("CONSTRUCT WHERE: its group is also its template")
        dataset_start = dataset_end = None
        while self.peek() is not None and self.peek().text != "{":
            token = self.peek()
            if token.text == "(":
                self.skip_brackets()
                continue
            if token.kind == "word" and token.text.upper() == "FROM":
                dataset_start = token.start if dataset_start is None else dataset_start
                self.next()
                if self.upper() == "NAMED":
                    self.next()
                dataset_end = self.next().end
                continue
            self.next()
        dataset = self.text[dataset_start:dataset_end] if dataset_start is not None else ""
        where = self.group(None) if self.peek() is not None else None
        return Query(self.text, form, form_token.start, dataset, where, prefixes)

    def skip_brackets(self) -> int:
        """Skip a balanced (...), [...] or {...}; the offset just after it."""
        pairs = {"(": ")", "[": "]", "{": "}"}
        stack = [pairs[self.next().text]]
        while stack:
            token = self.next()
            if token.text in pairs and token.kind == "punct":
                stack.append(pairs[token.text])
            elif token.kind == "punct" and token.text in (")", "]", "}"):
                if token.text != stack.pop():
                    raise NotUnderstood("unbalanced brackets")
        return self.tokens[self.i - 1].end

    def group(self, graph: str | None) -> Group:
        opening = self.next()
        if opening.text != "{":
            raise NotUnderstood("expected a group")
        group = Group(opening.start, -1, graph)
        if self.upper() == "SELECT":  # a subquery: its WHERE group is a child
            group.subquery = group.ordered = True
            self.next()
            while self.peek() is not None and self.peek().text != "{":
                if self.peek().text == "(":
                    self.skip_brackets()
                else:
                    self.next()
            group.children.append(self.group(graph))
            group.children[-1].joined = False
            while self.peek() is not None and self.peek().text != "}":
                if self.peek().text in ("(", "{"):
                    self.skip_brackets()
                else:
                    self.next()
            group.close = self.next().start
            return group
        triples: list[Token] = []
        while True:
            token = self.peek()
            if token is None:
                raise NotUnderstood("unclosed group")
            keyword = self.upper()
            if token.text == "}" and token.kind == "punct":
                self.flush(group, triples)
                group.close = self.next().start
                return group
            if token.text == "{" and token.kind == "punct":
                self.flush(group, triples)
                group.children.append(self.group(graph))
            elif keyword in _PATTERN_KEYWORDS:
                self.flush(group, triples)
                self.pattern(group, keyword, graph)
            else:
                if token.text in ("[", "(") and token.kind == "punct":
                    start = self.i
                    self.skip_brackets()
                    triples.extend(self.tokens[start:self.i])
                else:
                    triples.append(self.next())

    def pattern(self, group: Group, keyword: str, graph: str | None) -> None:
        start = self.next()
        if keyword in ("OPTIONAL", "MINUS"):
            group.ordered = True
            group.children.append(self.group(graph))
            group.children[-1].joined = False
        elif keyword == "UNION":
            if group.children:
                group.children[-1].joined = False  # the first branch
            group.children.append(self.group(graph))
            group.children[-1].joined = False
        elif keyword == "GRAPH":
            name = self.next()
            if name.kind not in ("iri", "pname", "variable"):
                raise NotUnderstood("GRAPH name")
            group.children.append(self.group(name.text))
        elif keyword == "SERVICE":
            raise NotUnderstood("SERVICE")
        elif keyword == "FILTER":
            first = self.i
            if self.peek() is not None and self.peek().text == "(":
                end = self.skip_brackets()
            else:  # a function call or EXISTS / NOT EXISTS { ... }
                while self.peek() is not None and self.peek().text not in ("(", "{"):
                    self.next()
                if self.peek() is not None and self.peek().text == "{":
                    group.children.append(self.group(graph))
                    group.children[-1].joined = False
                    end = self.tokens[self.i - 1].end
                else:
                    end = self.skip_brackets()
            expression = self.tokens[first:self.i]
            if any(t.kind == "word" and t.text.upper() == "EXISTS" for t in expression):
                expression = []  # EXISTS groups are not scanned as filters here
            group.filters.append(Filter(start.start, end, expression))
        elif keyword == "BIND":
            group.ordered = True
            self.skip_brackets()
        elif keyword == "VALUES":
            group.ordered = True
            if self.peek() is not None and self.peek().text == "(":
                self.skip_brackets()
            else:
                self.next()
            self.skip_brackets()

    def flush(self, group: Group, triples: list[Token]) -> None:
        """Split a triples block into statements at its top-level dots."""
        statement: list[Token] = []
        for token in [*triples, None]:
            if token is None or (token.kind == "punct" and token.text == "."):
                if statement:
                    variables = frozenset(t.text[1:] if t.kind == "variable" else t.text for t in statement if t.kind in ("variable", "bnode"))
                    start, end = statement[0].start, statement[-1].end
                    group.statements.append(Statement(start, end, self.text[start:end], statement, variables))
                statement = []
            else:
                statement.append(token)
        triples.clear()


def split(tokens: list[Token], separator: str) -> list[list[Token]]:
    """Tokens split at a separator (``,``, ``;``, ``&&``) outside brackets."""
    parts, current, depth = [], [], 0
    for token in tokens:
        text = token.text if token.kind == "punct" else ""
        if text in ("(", "[", "{"):
            depth += 1
        elif text in (")", "]", "}"):
            depth -= 1
        if depth == 0 and text == separator:
            parts.append(current)
            current = []
        else:
            current.append(token)
    parts.append(current)
    return parts
