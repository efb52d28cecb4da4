"""Recursive-descent WIT parser: tokens -> `ast.File`.

The grammar is that of the Component Model's WIT.md.  Doc comments are the comments
written before an item's first token (its gates included).
"""

from __future__ import annotations

from . import ast
from .diagnostics import Source, Span, fail
from ..audit import DiagnosticError
from .lexer import PRIMITIVE_KINDS, docs_from_comments, tokenize, valid_semver

_ID_KINDS = frozenset(("id", "explicit-id"))
# wit-parser accepts type expressions nested at most this deep (the innermost type counts)
MAX_TYPE_DEPTH = 100
_TYPEDEF_KINDS = frozenset(("record", "variant", "enum", "flags", "resource", "type"))
_U32_MAX, _U64_MAX = 2**32 - 1, 2**64 - 1  # the widths wit-parser reads list sizes and versions into


class Parser:
    def __init__(self, source: Source) -> None:
        self.source = source
        tokens = tokenize(source)
        self.kinds = tokens.kinds
        self.values = tokens.values
        self.offsets = tokens.offsets
        self.comments = tokens.comments
        self.lex_error = tokens.error  # raised when the parser reaches the `error` token
        self.last = len(tokens.kinds) - 1  # the `eof` token
        self.pos = 0
        self.depth = 0  # type expressions being parsed, one inside the other

    # --- token helpers ---------------------------------------------------------------

    @property
    def kind(self) -> str:
        """The kind of the current token."""
        return self.kinds[self.pos]

    def peek(self, ahead: int = 1) -> str:
        """The kind of the token `ahead` places on."""
        return self.kinds[min(self.pos + ahead, self.last)]

    def span(self) -> Span:
        return Span(self.source, self.offsets[self.pos])

    def advance(self) -> str:
        """Move past the current token (never past `eof`); its kind."""
        pos = self.pos
        kind = self.kinds[pos]
        if kind != "eof":
            self.pos = pos + 1
        return kind

    def at(self, kind: str) -> bool:
        return self.kinds[self.pos] == kind

    def eat(self, kind: str) -> bool:
        if self.kinds[self.pos] == kind:
            self.pos += 1
            return True
        return False

    def unexpected(self, expected: str) -> DiagnosticError:
        kind = self.kinds[self.pos]
        if kind == "error" and self.lex_error is not None:  # a lexical error is reported where the parser meets it
            return self.lex_error
        found = "end of file" if kind == "eof" else f"`{self.values[self.pos]}`"
        return fail("wit.parse.unexpected_token", f"expected {expected}, found {found}", self.span())

    def expect(self, kind: str) -> str:
        """Move past a token of `kind`; its value."""
        pos = self.pos
        if self.kinds[pos] != kind:
            raise self.unexpected(f"`{kind}`")
        if kind != "eof":
            self.pos = pos + 1
        return self.values[pos]

    def ident(self) -> ast.Ident:
        pos = self.pos
        if self.kinds[pos] not in _ID_KINDS:
            raise self.unexpected("an identifier")
        self.pos = pos + 1
        return ast.Ident(self.values[pos], self.source, self.offsets[pos])

    def docs(self) -> str | None:
        comments = self.comments.get(self.pos)
        return None if comments is None else docs_from_comments(comments)

    def version(self) -> str:
        pos = self.pos
        kind = self.kinds[pos]
        if kind == "error" and self.lex_error is not None:
            raise self.lex_error
        if kind != "version" or not valid_semver(self.values[pos]):
            raise fail("wit.parse.invalid_version", "expected a semantic version (e.g. 1.0.0)",
                       self.span())
        numbers = self.values[pos].split("-", 1)[0].split("+", 1)[0].split(".")
        for part, number in zip(("major", "minor", "patch"), numbers):
            if int(number) > _U64_MAX:
                raise fail("wit.parse.invalid_version", f"value of {part} version number exceeds u64::MAX",
                           self.span())
        self.pos = pos + 1
        return self.values[pos]

    def comma_list(self, item, close: str) -> list:
        out = []
        while not self.eat(close):
            out.append(item())
            if not self.eat(","):
                self.expect(close)
                break
        return out

    # --- files and packages --------------------------------------------------------

    def parse_file(self) -> ast.File:
        bodies: list[ast.PackageBody] = []
        docs = self.docs()
        decl = None
        if self.at("package") and self.peek(1) in _ID_KINDS:
            save = self.pos
            decl = self.package_decl(docs)
            if self.at("{"):  # a nested package block, not the file's header
                self.pos = save
                decl = None
            else:
                self.expect(";")
        top = ast.PackageBody(decl, [], self.source)
        bodies.append(top)
        while not self.at("eof"):
            if self.at("package"):
                nested_docs = self.docs()
                nested = self.package_decl(nested_docs)
                self.expect("{")
                body = ast.PackageBody(nested, [], self.source, nested=True)
                while not self.eat("}"):
                    body.items.append(self.package_item())
                bodies.append(body)
            else:
                top.items.append(self.package_item())
        return ast.File(self.source, bodies)

    def package_decl(self, docs: str | None) -> ast.PackageDecl:
        start = self.span()
        self.expect("package")
        namespace = self.ident()
        self.expect(":")
        name = self.ident()
        if self.at("/") or self.at(":"):
            raise fail("wit.parse.unexpected_token", "nested namespaces and package paths are not supported",
                       self.span())
        version = None
        if self.eat("@"):
            version = self.version()
        return ast.PackageDecl(namespace, name, version, docs, start)

    def package_item(self):
        docs = self.docs()
        attrs = self.attrs()
        kind = self.kind
        if kind == "interface":
            return self.interface(docs, attrs)
        if kind == "world":
            return self.world(docs, attrs)
        if kind == "use":
            start = self.span()
            self.advance()
            path = self.use_path()
            alias = self.ident() if self.eat("as") else None
            self.expect(";")
            return ast.TopUse(path, alias, attrs, start)
        raise self.unexpected("`world`, `interface` or `use`")

    # --- gates -------------------------------------------------------------------------

    def attrs(self) -> list[ast.Attr]:
        out = []
        while self.at("@"):
            start = self.span()
            self.advance()
            kind = self.ident()
            if kind.name == "external-id":
                self.expect("(")
                value = self.expect("string")
                self.expect(")")
                out.append(ast.Attr(kind.name, value, start))
                continue
            if kind.name not in ("since", "unstable", "deprecated"):
                raise fail("wit.parse.invalid_gate", f"unknown attribute `{kind.name}`", kind.span)
            self.expect("(")
            key = self.ident()
            want = "feature" if kind.name == "unstable" else "version"
            if key.name != want:
                raise fail("wit.parse.invalid_gate", f"expected `{want}`, found `{key.name}`", key.span)
            self.expect("=")
            value = self.version() if want == "version" else self.ident().name
            self.expect(")")
            out.append(ast.Attr(kind.name, value, start))
        return out

    # --- interfaces --------------------------------------------------------------------

    def interface(self, docs: str | None, attrs: list[ast.Attr]) -> ast.Interface:
        start = self.span()
        self.expect("interface")
        name = self.ident()
        items = self.interface_body()
        return ast.Interface(name, docs, attrs, items, start)

    def interface_body(self) -> list:
        self.expect("{")
        items = []
        while not self.eat("}"):
            items.append(self.interface_item())
        return items

    def interface_item(self):
        docs = self.docs()
        attrs = self.attrs()
        kind = self.kind
        if kind == "use":
            return self.use_item(attrs)
        if kind in _TYPEDEF_KINDS:
            return self.typedef(docs, attrs)
        if kind in _ID_KINDS:
            name = self.ident()
            self.expect(":")
            ftype = self.func_type()
            self.expect(";")
            return ast.Func(name, ftype, docs, attrs)
        raise self.unexpected("a type definition, `use` or a function")

    def use_item(self, attrs: list[ast.Attr]) -> ast.Use:
        start = self.span()
        self.expect("use")
        path = self.use_path()
        self.expect(".")
        self.expect("{")

        def one():
            name = self.ident()
            alias = self.ident() if self.eat("as") else None
            return (name, alias)

        names = self.comma_list(one, "}")
        self.expect(";")
        return ast.Use(path, names, attrs, start)

    def use_path(self) -> ast.UsePath:
        first = self.ident()
        if not self.eat(":"):
            return ast.UsePath(first)
        package = self.ident()
        if self.at(":"):
            raise fail("wit.parse.unexpected_token", "nested namespaces are not supported", self.span())
        self.expect("/")
        name = self.ident()
        if self.at("/"):
            raise fail("wit.parse.unexpected_token", "nested package paths are not supported", self.span())
        version = self.version() if self.eat("@") else None
        return ast.UsePath(name, first, package, version)

    # --- worlds -----------------------------------------------------------------------

    def world(self, docs: str | None, attrs: list[ast.Attr]) -> ast.World:
        start = self.span()
        self.expect("world")
        name = self.ident()
        self.expect("{")
        items = []
        while not self.eat("}"):
            items.append(self.world_item())
        return ast.World(name, docs, attrs, items, start)

    def world_item(self):
        docs = self.docs()
        attrs = self.attrs()
        kind = self.kind
        if kind in ("import", "export"):
            return self.extern(docs, attrs)
        if kind == "use":
            return self.use_item(attrs)
        if kind == "include":
            start = self.span()
            self.advance()
            path = self.use_path()
            renames = []
            if self.eat("with"):
                self.expect("{")

                def one():
                    n = self.ident()
                    self.expect("as")
                    return (n, self.ident())

                renames = self.comma_list(one, "}")
            else:
                self.expect(";")
            return ast.Include(path, renames, attrs, start)
        if kind in _TYPEDEF_KINDS:
            return self.typedef(docs, attrs)
        raise self.unexpected("`import`, `export`, `include`, `use` or a type definition")

    def extern(self, docs: str | None, attrs: list[ast.Attr]) -> ast.Extern:
        start = self.span()
        direction = self.advance()
        # `import name: …` (a function, an inline interface, or a path under a name of its
        # own) as opposed to `import ns:pkg/iface;`, whose third token is `/`
        if self.kind in _ID_KINDS and self.peek(1) == ":" and self.peek(3) != "/":
            name = self.ident()
            self.expect(":")
            if self.kind in _ID_KINDS:
                path = self.use_path()
                self.expect(";")
                return ast.Extern(direction, docs, attrs, start, name=name, path=path)
            if self.at("interface"):
                istart = self.span()
                self.advance()
                items = self.interface_body()
                iface = ast.Interface(None, None, [], items, istart)
                return ast.Extern(direction, docs, attrs, start, name=name, interface=iface)
            ftype = self.func_type()
            self.expect(";")
            return ast.Extern(direction, docs, attrs, start, name=name, func=ftype)
        path = self.use_path()
        self.expect(";")
        return ast.Extern(direction, docs, attrs, start, path=path)

    # --- type definitions ----------------------------------------------------------

    def typedef(self, docs: str | None, attrs: list[ast.Attr]) -> ast.TypeDef:
        kind = self.advance()
        name = self.ident()
        if kind == "type":
            self.expect("=")
            target = self.type_expr()
            self.expect(";")
            return ast.TypeDef("alias", name, docs, attrs, target=target)
        if kind == "resource":
            if self.eat(";"):
                return ast.TypeDef("resource", name, docs, attrs)
            self.expect("{")
            funcs = []
            while not self.eat("}"):
                funcs.append(self.resource_member())
            return ast.TypeDef("resource", name, docs, attrs, functions=funcs)
        self.expect("{")
        if kind == "record":
            def item():
                d = self.docs()
                n = self.ident()
                self.expect(":")
                return ast.Field(n, self.type_expr(), d)
        elif kind == "variant":
            def item():
                d = self.docs()
                n = self.ident()
                t = None
                if self.eat("("):
                    t = self.type_expr()
                    self.expect(")")
                return ast.Field(n, t, d)
        else:  # enum, flags
            def item():
                d = self.docs()
                return ast.Field(self.ident(), None, d)
        fields = self.comma_list(item, "}")
        return ast.TypeDef(kind, name, docs, attrs, fields=fields)

    def resource_member(self) -> ast.Func:
        docs = self.docs()
        attrs = self.attrs()
        if self.at("constructor"):
            start = self.span()
            name = ast.Ident("constructor", start.source, start.offset)
            self.advance()
            params = self.params()
            result = self.type_expr() if self.eat("->") else None
            self.expect(";")
            return ast.Func(name, ast.FuncType(False, params, result, start), docs, attrs, "constructor")
        name = self.ident()
        self.expect(":")
        member = "static" if self.eat("static") else "method"
        ftype = self.func_type()
        self.expect(";")
        return ast.Func(name, ftype, docs, attrs, member)

    def func_type(self) -> ast.FuncType:
        start = self.span()
        is_async = self.eat("async")
        self.expect("func")
        params = self.params()
        result = self.type_expr() if self.eat("->") else None
        return ast.FuncType(is_async, params, result, start)

    def params(self) -> list[ast.Param]:
        self.expect("(")

        def one():
            n = self.ident()
            self.expect(":")
            return ast.Param(n, self.type_expr())

        return self.comma_list(one, ")")

    # --- type expressions ----------------------------------------------------------

    def type_expr(self) -> ast.TypeExpr:
        """A type expression; nesting deeper than wit-parser's limit is an error."""
        pos = self.pos
        kind = self.kinds[pos]
        offset = self.offsets[pos]
        if self.depth >= MAX_TYPE_DEPTH:  # this one would be one level too deep
            raise fail("wit.type.too_deep", "type nesting too deep", Span(self.source, offset))
        if kind in PRIMITIVE_KINDS:
            self.pos = pos + 1
            return ast.TypeExpr(kind, self.source, offset)
        if kind in _ID_KINDS:
            self.pos = pos + 1
            return ast.TypeExpr("name", self.source, offset, name=ast.Ident(self.values[pos], self.source, offset))
        self.depth += 1
        try:
            return self._compound_type(kind, offset)
        finally:
            self.depth -= 1

    def _compound_type(self, kind: str, offset: int) -> ast.TypeExpr:
        self.pos += 1
        if kind == "list":
            self.expect("<")
            inner = self.type_expr()
            length = None
            if self.eat(","):
                size_at = self.span()
                length = int(self.expect("int"))
                if length > _U32_MAX:
                    raise fail("wit.type.invalid", "invalid list size: number too large to fit in target type",
                               size_at)
            self.expect(">")
            return ast.TypeExpr("list", self.source, offset, (inner,), length=length)
        if kind == "map":
            self.expect("<")
            key = self.type_expr()
            self.expect(",")
            value = self.type_expr()
            self.expect(">")
            return ast.TypeExpr("map", self.source, offset, (key, value))
        if kind == "tuple":
            self.expect("<")
            return ast.TypeExpr("tuple", self.source, offset, tuple(self.comma_list(self.type_expr, ">")))
        if kind == "option":
            self.expect("<")
            inner = self.type_expr()
            self.expect(">")
            return ast.TypeExpr("option", self.source, offset, (inner,))
        if kind == "result":
            if not self.eat("<"):
                return ast.TypeExpr("result", self.source, offset, (None, None))
            if self.eat("_"):
                self.expect(",")
                err_only = self.type_expr()
                self.expect(">")
                return ast.TypeExpr("result", self.source, offset, (None, err_only))
            ok = self.type_expr()
            err: ast.TypeExpr | None = None
            if self.eat(","):
                err = self.type_expr()
            self.expect(">")
            return ast.TypeExpr("result", self.source, offset, (ok, err))
        if kind in ("own", "borrow"):
            self.expect("<")
            name = self.ident()
            self.expect(">")
            return ast.TypeExpr(kind, self.source, offset, name=name)
        if kind in ("stream", "future"):
            if not self.eat("<"):
                return ast.TypeExpr(kind, self.source, offset, (None,))
            inner = self.type_expr()
            self.expect(">")
            return ast.TypeExpr(kind, self.source, offset, (inner,))
        self.pos -= 1
        raise self.unexpected("a type")


def parse_source(source: Source) -> ast.File:
    return Parser(source).parse_file()
