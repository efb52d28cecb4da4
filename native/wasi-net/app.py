"""native/wasi-net/world.wit in Python (componentize-py): every check is one line
`<what>: ok <value>` or `<what>: err <error>`, so a host's answers can be compared."""

import re
import socket

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import (instance_network, ip_name_lookup, network, outgoing_handler,
                               tcp_create_socket, udp_create_socket)
from wit_world.imports import types as http

ADDRESS = re.compile(r" (object )?at 0x[0-9a-f]+")


def shown(value):
    return ADDRESS.sub("", repr(value))


def attempt(log, what, f):
    try:
        out = f()
    except Err as e:
        log.append(f"{what}: err {shown(e.value)}")
        return None
    except OSError as e:
        log.append(f"{what}: oserror {e.errno} {type(e).__name__}")
        return None
    except Exception as e:  # noqa: BLE001 - reported, so both hosts can be compared
        log.append(f"{what}: exception {type(e).__name__} {e}")
        return None
    log.append(f"{what}: ok {shown(out)}")
    return out


def section(log, what, f):
    """Run a group of checks; a step that fails unexpectedly ends the group, not the call."""
    try:
        f()
    except BaseException as e:  # noqa: BLE001 - reported
        log.append(f"{what}: stopped by {shown(e)}")


def v4(port, a, b, c, d):
    return network.IpSocketAddress_Ipv4(network.Ipv4SocketAddress(port=port, address=(a, b, c, d)))


def v6(port, *segments):
    return network.IpSocketAddress_Ipv6(network.Ipv6SocketAddress(port=port, flow_info=0, address=segments,
                                                                  scope_id=0))


def tcp_checks(log, net, family, local, remote):
    name = f"tcp{family.name[-1]}"
    s = attempt(log, f"{name} create", lambda: tcp_create_socket.create_tcp_socket(family))
    if s is None:
        return
    attempt(log, f"{name} family", s.address_family)
    attempt(log, f"{name} start-bind", lambda: s.start_bind(net, local))
    attempt(log, f"{name} finish-bind", s.finish_bind)
    attempt(log, f"{name} start-connect", lambda: s.start_connect(net, remote))
    attempt(log, f"{name} finish-connect", s.finish_connect)
    attempt(log, f"{name} start-listen", s.start_listen)
    attempt(log, f"{name} finish-listen", s.finish_listen)
    attempt(log, f"{name} accept", s.accept)
    attempt(log, f"{name} local-address", s.local_address)
    attempt(log, f"{name} remote-address", s.remote_address)
    attempt(log, f"{name} is-listening", s.is_listening)
    attempt(log, f"{name} backlog 0", lambda: s.set_listen_backlog_size(0))
    attempt(log, f"{name} backlog 10", lambda: s.set_listen_backlog_size(10))
    attempt(log, f"{name} keep-alive", s.keep_alive_enabled)
    attempt(log, f"{name} set keep-alive", lambda: s.set_keep_alive_enabled(True))
    attempt(log, f"{name} keep-alive again", s.keep_alive_enabled)
    attempt(log, f"{name} idle-time", s.keep_alive_idle_time)
    attempt(log, f"{name} set idle-time 0", lambda: s.set_keep_alive_idle_time(0))
    attempt(log, f"{name} set idle-time 5s", lambda: s.set_keep_alive_idle_time(5_000_000_000))
    attempt(log, f"{name} idle-time again", s.keep_alive_idle_time)
    attempt(log, f"{name} interval", s.keep_alive_interval)
    attempt(log, f"{name} set interval 0", lambda: s.set_keep_alive_interval(0))
    attempt(log, f"{name} set interval 3s", lambda: s.set_keep_alive_interval(3_000_000_000))
    attempt(log, f"{name} interval again", s.keep_alive_interval)
    attempt(log, f"{name} count", s.keep_alive_count)
    attempt(log, f"{name} set count 0", lambda: s.set_keep_alive_count(0))
    attempt(log, f"{name} set count 4", lambda: s.set_keep_alive_count(4))
    attempt(log, f"{name} count again", s.keep_alive_count)
    attempt(log, f"{name} hop-limit", s.hop_limit)
    attempt(log, f"{name} set hop-limit 0", lambda: s.set_hop_limit(0))
    attempt(log, f"{name} set hop-limit 12", lambda: s.set_hop_limit(12))
    attempt(log, f"{name} hop-limit again", s.hop_limit)
    attempt(log, f"{name} set receive-buffer 0", lambda: s.set_receive_buffer_size(0))
    attempt(log, f"{name} set receive-buffer", lambda: s.set_receive_buffer_size(8192))
    attempt(log, f"{name} receive-buffer", s.receive_buffer_size)
    attempt(log, f"{name} set send-buffer 0", lambda: s.set_send_buffer_size(0))
    attempt(log, f"{name} set send-buffer", lambda: s.set_send_buffer_size(8192))
    attempt(log, f"{name} send-buffer", s.send_buffer_size)
    attempt(log, f"{name} shutdown", lambda: s.shutdown(network.ShutdownType.BOTH)
            if hasattr(network, "ShutdownType") else s.shutdown(0))
    attempt(log, f"{name} subscribe ready", lambda: s.subscribe().ready())
    s.__exit__(None, None, None)


def udp_checks(log, net, family, local, remote):
    name = f"udp{family.name[-1]}"
    s = attempt(log, f"{name} create", lambda: udp_create_socket.create_udp_socket(family))
    if s is None:
        return
    attempt(log, f"{name} family", s.address_family)
    attempt(log, f"{name} start-bind", lambda: s.start_bind(net, local))
    attempt(log, f"{name} finish-bind", s.finish_bind)
    attempt(log, f"{name} stream", lambda: s.stream(None))
    attempt(log, f"{name} stream to", lambda: s.stream(remote))
    attempt(log, f"{name} local-address", s.local_address)
    attempt(log, f"{name} remote-address", s.remote_address)
    attempt(log, f"{name} hop-limit", s.unicast_hop_limit)
    attempt(log, f"{name} set hop-limit 0", lambda: s.set_unicast_hop_limit(0))
    attempt(log, f"{name} set hop-limit 9", lambda: s.set_unicast_hop_limit(9))
    attempt(log, f"{name} hop-limit again", s.unicast_hop_limit)
    attempt(log, f"{name} set receive-buffer 0", lambda: s.set_receive_buffer_size(0))
    attempt(log, f"{name} set receive-buffer", lambda: s.set_receive_buffer_size(4096))
    attempt(log, f"{name} receive-buffer", s.receive_buffer_size)
    attempt(log, f"{name} send-buffer", s.send_buffer_size)
    attempt(log, f"{name} subscribe ready", lambda: s.subscribe().ready())
    s.__exit__(None, None, None)


def lookup_checks(log, net):
    for name in ("localhost", "127.0.0.1", "::1", "example.com", "not a name!", ""):
        stream = attempt(log, f"lookup {name!r}", lambda: ip_name_lookup.resolve_addresses(net, name))
        if stream is not None:
            attempt(log, f"lookup {name!r} next", stream.resolve_next_address)


class Checks(exports.Checks):
    def sockets(self):
        log = []
        net = instance_network.instance_network()
        ipv4, ipv6 = network.IpAddressFamily.IPV4, network.IpAddressFamily.IPV6
        tcp_checks(log, net, ipv4, v4(0, 127, 0, 0, 1), v4(80, 127, 0, 0, 1))
        tcp_checks(log, net, ipv6, v6(0, 0, 0, 0, 0, 0, 0, 0, 1), v6(80, 0, 0, 0, 0, 0, 0, 0, 1))
        udp_checks(log, net, ipv4, v4(0, 0, 0, 0, 0), v4(53, 127, 0, 0, 1))
        udp_checks(log, net, ipv6, v6(0, 0, 0, 0, 0, 0, 0, 0, 0), v6(53, 0, 0, 0, 0, 0, 0, 0, 1))
        lookup_checks(log, net)
        return log

    def libc_sockets(self):
        log = []
        for kind, proto in (("stream", socket.SOCK_STREAM), ("dgram", socket.SOCK_DGRAM)):
            s = attempt(log, f"socket {kind}", lambda: socket.socket(socket.AF_INET, proto))
            if s is not None:
                attempt(log, f"{kind} bind", lambda: s.bind(("127.0.0.1", 0)))
                attempt(log, f"{kind} connect", lambda: s.connect(("127.0.0.1", 80)))
                s.close()
        attempt(log, "getaddrinfo", lambda: socket.getaddrinfo(b"localhost", 80))  # bytes: no idna codec here
        return log

    def http(self):
        log = []
        attempt(log, "fields new entries", lambda: http.Fields().entries())
        f = attempt(log, "from-list", lambda: http.Fields.from_list(
            [("Content-Type", b"text/plain"), ("x-a", b"1"), ("X-A", b"2"), ("x-b", b"\tsp ace")]))
        for name, value in (("bad name", b"1"), ("", b"1"), ("x", b"a\nb"), ("x", b"a\x00"), ("x", b"\xff"),
                            ("connection", b"x"), ("Host", b"x"), ("keep-alive", b"x"), ("proxy-connection", b"x"),
                            ("transfer-encoding", b"x"), ("upgrade", b"x"), ("http2-settings", b"x"),
                            ("te", b"x"), ("content-length", b"3"), ("é", b"1"), ("proxy-authorization", b"x"),
                            ("proxy-authenticate", b"x"), ("Content-Length", b"+5"), ("content-length", b" 5"),
                            ("content-length", b""), ("content-length", b"007"), ("content-length", b"5 "),
                            ("content-length", b"18446744073709551616"), ("content-length", b"1,1"),
                            ("x" * 300, b"long"), ("a_b~c|d", b"v"), ("x", b"a\x7fb"), ("x", b" padded ")):
            attempt(log, f"from-list {name!r}={value!r}", lambda: http.Fields.from_list([(name, value)]))
        if f is not None:
            attempt(log, "entries", f.entries)
            for name in ("x-a", "X-A", "missing", "bad name", ""):
                attempt(log, f"get {name!r}", lambda: f.get(name))
                attempt(log, f"has {name!r}", lambda: f.has(name))
            attempt(log, "set x-b", lambda: f.set("x-b", [b"1", b"2"]))
            attempt(log, "set bad value", lambda: f.set("x-c", [b"ok", b"a\rb"]))
            attempt(log, "set forbidden", lambda: f.set("connection", [b"close"]))
            attempt(log, "set bad name", lambda: f.set("bad name", [b"1"]))
            attempt(log, "set empty", lambda: f.set("x-e", []))
            attempt(log, "append x-a", lambda: f.append("x-a", b"3"))
            attempt(log, "append forbidden", lambda: f.append("upgrade", b"h2"))
            attempt(log, "append bad", lambda: f.append("x-a", b"\x7f"))
            attempt(log, "delete content-type", lambda: f.delete("content-type"))
            attempt(log, "delete missing", lambda: f.delete("missing"))
            attempt(log, "delete bad name", lambda: f.delete("bad name"))
            attempt(log, "delete forbidden", lambda: f.delete("host"))
            attempt(log, "entries after", f.entries)
            c = attempt(log, "clone", f.clone)
            attempt(log, "clone append", lambda: c.append("x-z", b"z"))
            attempt(log, "clone entries", c.entries)
            attempt(log, "original entries", f.entries)
            req = attempt(log, "request", lambda: http.OutgoingRequest(f))
            section(log, "request", lambda: self.request_checks(log, req))
        section(log, "response", lambda: self.response_checks(log))
        section(log, "options", lambda: self.options_checks(log))
        section(log, "handle", lambda: self.handle_checks(log))
        return log

    def probe_fields(self, entries):
        log = []
        f = http.Fields()
        for name, value in entries:
            attempt(log, f"append {name!r}={value!r}", lambda: f.append(name, value))
        attempt(log, "from-list", lambda: http.Fields.from_list(entries).entries())
        attempt(log, "entries", f.entries)
        headers = http.OutgoingRequest(f.clone()).headers()
        for name, value in entries:
            attempt(log, f"immutable append {name!r}={value!r}", lambda: headers.append(name, value))
        for name, value in entries:
            attempt(log, f"set {name!r}", lambda: f.set(name, [value]))
            if len(value) < 100:  # (large values probe the size limit, which two would pass)
                attempt(log, f"set {name!r} twice", lambda: f.set(name, [value, value]))
        attempt(log, "entries after set", f.entries)
        for name, _ in entries:
            attempt(log, f"get {name!r}", lambda: f.get(name))
            attempt(log, f"has {name!r}", lambda: f.has(name))
            attempt(log, f"delete {name!r}", lambda: f.delete(name))
        attempt(log, "entries after delete", f.entries)
        return log

    def probe_request(self, method, path, scheme, authority):
        log = []
        req = http.OutgoingRequest(http.Fields())
        attempt(log, "method", lambda: req.set_method(http.Method_Other(method)))
        attempt(log, "path", lambda: req.set_path_with_query(path))
        attempt(log, "scheme", lambda: req.set_scheme(None if scheme is None else http.Scheme_Other(scheme)))
        attempt(log, "authority", lambda: req.set_authority(authority))
        attempt(log, "now", lambda: (req.method(), req.path_with_query(), req.scheme(), req.authority()))
        return log

    def request_checks(self, log, req):
        attempt(log, "method", req.method)
        for m in (http.Method_Post(), http.Method_Other("PURGE"), http.Method_Other("bad method"),
                  http.Method_Other(""), http.Method_Other("get"), http.Method_Other("GET"), http.Method_Other("é"),
                  http.Method_Other("a!#$%&'*+-.^_`|~z"), http.Method_Other("a(b"), http.Method_Patch()):
            attempt(log, f"set-method {shown(m)}", lambda: req.set_method(m))
        attempt(log, "method after", req.method)
        attempt(log, "path", req.path_with_query)
        for p in ("/a/b?c=1&d", "/bad path", "no-slash", "", "/%zz", None, "/é", "?q=1", "*", "/a#frag",
                  "/a?b c", "/\x7f", '/a"b', "/{x}", "/a?é", "/a?q#f", "//x", "/a\\b", "/a^b", "/a`b"):
            attempt(log, f"set-path {p!r}", lambda: req.set_path_with_query(p))
            attempt(log, "path now", req.path_with_query)
        attempt(log, "scheme", req.scheme)
        for sc in (http.Scheme_Https(), http.Scheme_Other("ftp"), http.Scheme_Other("bad scheme!"),
                   http.Scheme_Other(""), http.Scheme_Other("http"), http.Scheme_Other("HTTPS"),
                   http.Scheme_Other("a+b-c.d1"), http.Scheme_Other("1abc"), http.Scheme_Other("a:b"),
                   http.Scheme_Other("x" * 70), None, http.Scheme_Http()):
            attempt(log, f"set-scheme {shown(sc)}", lambda: req.set_scheme(sc))
            attempt(log, "scheme now", req.scheme)
        attempt(log, "authority", req.authority)
        for a in ("example.com", "Example.COM:8080", "user@host", "host:99999", "host:", ":80", "bad/authority",
                  "", "[::1]:8080", None, "h:0", "a@b@c", "user:pw@host:81", "h%20x", "[::1", "h:08", "h:+8",
                  "h:65535", "h:65536", "h h", "é.com", "::1", "h:80:90", "@h"):
            attempt(log, f"set-authority {a!r}", lambda: req.set_authority(a))
            attempt(log, "authority now", req.authority)
        h = attempt(log, "headers", req.headers)
        attempt(log, "headers entries", h.entries)
        attempt(log, "headers append", lambda: h.append("x-new", b"1"))
        attempt(log, "headers set", lambda: h.set("x-a", [b"9"]))
        attempt(log, "headers delete", lambda: h.delete("x-a"))
        attempt(log, "headers append bad", lambda: h.append("bad name", b"1"))
        attempt(log, "headers append bad value", lambda: h.append("x-ok", b"a\nb"))
        attempt(log, "headers set forbidden", lambda: h.set("host", [b"h"]))
        attempt(log, "headers delete forbidden", lambda: h.delete("upgrade"))
        attempt(log, "headers delete bad", lambda: h.delete("bad name"))
        attempt(log, "headers clone append", lambda: h.clone().append("x-new", b"1"))
        body = attempt(log, "body", req.body)
        attempt(log, "body again", req.body)
        out = attempt(log, "write", body.write)
        attempt(log, "write again", body.write)
        attempt(log, "check-write", out.check_write)
        attempt(log, "stream write", lambda: out.blocking_write_and_flush(b"hello"))
        out.__exit__(None, None, None)
        attempt(log, "finish", lambda: http.OutgoingBody.finish(body, None))
        attempt(log, "handle after body", lambda: outgoing_handler.handle(req, None))

    def response_checks(self, log):
        fields = http.Fields.from_list([("content-length", b"3")])
        resp = attempt(log, "response", lambda: http.OutgoingResponse(fields))
        attempt(log, "status", resp.status_code)
        for code in (404, 99, 100, 599, 600, 999, 1000, 0):
            attempt(log, f"set-status {code}", lambda: resp.set_status_code(code))
            attempt(log, "status now", resp.status_code)
        h = attempt(log, "response headers", resp.headers)
        attempt(log, "response headers entries", h.entries)
        attempt(log, "response headers append", lambda: h.append("x", b"1"))
        body = attempt(log, "response body", resp.body)
        attempt(log, "response body again", resp.body)
        out = attempt(log, "response write", body.write)
        try:
            out.blocking_write_and_flush(b"hello")
            log.append("response stream write: ok")
        except Err as e:
            log.append(f"response stream write: err {shown(e.value)}")
            error = e.value.value
            attempt(log, "http-error-code", lambda: http.http_error_code(error))
            attempt(log, "to-debug-string", error.to_debug_string)
        out.__exit__(None, None, None)
        attempt(log, "response finish (length 3, wrote 5)", lambda: http.OutgoingBody.finish(body, None))
        attempt(log, "content-length x", lambda: http.Fields.from_list([("content-length", b"x")]))
        lying = http.Fields()
        attempt(log, "append content-length x", lambda: lying.append("content-length", b"x"))
        resp2 = http.OutgoingResponse(lying)
        attempt(log, "bad content-length body", resp2.body)
        resp3 = http.OutgoingResponse(http.Fields.from_list([("content-length", b"4")]))
        body3 = resp3.body()
        out3 = body3.write()
        attempt(log, "short write", lambda: out3.blocking_write_and_flush(b"ab"))
        out3.__exit__(None, None, None)
        attempt(log, "finish short", lambda: http.OutgoingBody.finish(body3, None))
        resp4 = http.OutgoingResponse(http.Fields())
        body4 = resp4.body()
        trailers = http.Fields.from_list([("x-trailer", b"t")])
        attempt(log, "finish with trailers", lambda: http.OutgoingBody.finish(body4, trailers))

    def options_checks(self, log):
        o = attempt(log, "options", http.RequestOptions)
        for name in ("connect_timeout", "first_byte_timeout", "between_bytes_timeout"):
            attempt(log, name, getattr(o, name))
            attempt(log, f"set {name}", lambda: getattr(o, f"set_{name}")(5_000_000_000))
            attempt(log, f"{name} now", getattr(o, name))
            attempt(log, f"set {name} none", lambda: getattr(o, f"set_{name}")(None))
            attempt(log, f"{name} after none", getattr(o, name))

    def handle_checks(self, log):
        for authority, scheme in (("example.com", http.Scheme_Https()), (None, None), ("localhost:1", None)):
            req = http.OutgoingRequest(http.Fields())
            req.set_authority(authority)
            req.set_scheme(scheme)
            attempt(log, f"handle {authority!r}", lambda: outgoing_handler.handle(req, None))
        req = http.OutgoingRequest(http.Fields())
        req.set_authority("example.com")
        attempt(log, "handle with options", lambda: outgoing_handler.handle(req, http.RequestOptions()))
