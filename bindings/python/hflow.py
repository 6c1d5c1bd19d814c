"""hflow -- libhflow from Python, through ctypes (no third-party package).

    import hflow
    r = hflow.get("http://127.0.0.1:8080/", timeout=5)
    r.status_code, r.headers["content-type"], r.text, r.elapsed
    r.trace            # the request's flow: a list of dicts (docs/TRACE.md)
    r.timings          # curl's -w times in seconds: namelookup ... total

    with hflow.Session() as s:                    # cookies and kept-alive connections
        s.post(url, json={"a": 1}).json()
        with s.get(big_url, stream=True) as r:    # back-pressure: the socket is
            for chunk in r.iter_content(65536):   # not read while the chunks wait
                ...
        rs = s.map([url1, url2, ...], max_per_host=4)   # many at once, in order

The library is found through $HFLOW_LIB (a path), then libhflow.so next to
this file, then the system's (ctypes.util.find_library("hflow")).

Everything C hands back is copied into Python objects and freed at once:
a Response holds no C memory, except a streamed one until its body is read
or it is closed.  A Session is one hf_client: use it from one thread at a
time (the library's rule is one client per thread).
"""

import collections
import collections.abc
import ctypes
import ctypes.util
import datetime
import io
import json as _json
import os
import select
import tempfile
import threading
import urllib.parse
import uuid

__version__ = "0.1.0"

__all__ = [
    "get", "head", "post", "put", "patch", "delete", "options", "request",
    "download", "map", "Session", "Request", "Response", "CaseInsensitiveDict",
    "HTTPBasicAuth", "HTTPDigestAuth", "HflowError", "RequestException",
    "ConnectionError", "Timeout", "SSLError", "TooManyRedirects", "InvalidURL",
    "InvalidHeader", "HTTPError", "ContentDecodingError", "view_flow",
]

# --------------------------------------------------------------- the library


def _find_library():
    env = os.environ.get("HFLOW_LIB")
    if env:
        return env                      # explicit: used as given, or fail
    here = os.path.dirname(os.path.abspath(__file__))
    for name in ("libhflow.so", "libhflow.so.0"):
        p = os.path.join(here, name)
        if os.path.exists(p):
            return p
    found = ctypes.util.find_library("hflow")
    if found:
        return found
    raise ImportError("hflow: libhflow.so not found (set HFLOW_LIB to its path, "
                      "put it next to hflow.py, or install it)")


try:
    _lib = ctypes.CDLL(_find_library())
except OSError as _e:
    raise ImportError("hflow: cannot load libhflow: %s" % _e) from None
_libc = ctypes.CDLL(None)
_libc.free.argtypes = [ctypes.c_void_p]
_libc.free.restype = None

_P = ctypes.c_void_p
_S = ctypes.c_char_p
_I = ctypes.c_int
_L = ctypes.c_long
_Z = ctypes.c_size_t
_U64 = ctypes.c_uint64
_I64 = ctypes.c_int64

# Callbacks (hflow.h).  Every C-callable object made from these is kept
# referenced by the Python object that owns the request or transfer, for as
# long as C may call it.
WRITE_FN = ctypes.CFUNCTYPE(_I, _P, _P, _Z)
READ_FN = ctypes.CFUNCTYPE(_I, _P, _P, _Z, ctypes.POINTER(_Z))
HEAD_FN = ctypes.CFUNCTYPE(_I, _P, _P)
DONE_FN = ctypes.CFUNCTYPE(None, _P, _P, _P, _I)


class TcpInfo(ctypes.Structure):
    _fields_ = [("valid", _I), ("rtt_us", ctypes.c_uint32),
                ("rttvar_us", ctypes.c_uint32), ("snd_mss", ctypes.c_uint32),
                ("rcv_mss", ctypes.c_uint32), ("retrans", ctypes.c_uint32),
                ("bytes_acked", _U64), ("bytes_received", _U64),
                ("delivery_rate", _U64)]


class Event(ctypes.Structure):
    """struct hf_event."""
    _fields_ = [("type", _I), ("t_ns", _U64), ("mono_ns", _U64),
                ("transfer", _L), ("conn", _L), ("peer", _S), ("local", _S),
                ("detail", _S), ("value", _I64), ("closed_by", _I),
                ("tcp", TcpInfo)]


class ViewOpts(ctypes.Structure):
    _fields_ = [("width", _I), ("color", _I)]


EVENT_FN = ctypes.CFUNCTYPE(None, _P, ctypes.POINTER(Event))

_PROTOS = {
    "hf_strerror": (_S, [_I]),
    "hf_err_name": (_S, [_I]),
    "hf_client_new": (_P, []),
    "hf_client_free": (None, [_P]),
    "hf_client_resolve": (_I, [_P, _S]),
    "hf_client_set_ip_family": (_I, [_P, _I]),
    "hf_client_set_connect_timeout_ms": (_I, [_P, _L]),
    "hf_client_set_dns_servers": (_I, [_P, _S]),
    "hf_client_set_dns_files": (_I, [_P, _S, _S]),
    "hf_client_set_dns_system": (_I, [_P, _I]),
    "hf_client_cookies_enable": (_I, [_P]),
    "hf_client_cookies_load": (_I, [_P, _S, _I]),
    "hf_client_cookies_save": (_I, [_P, _S]),
    "hf_client_num_connects": (_L, [_P]),
    "hf_client_set_event_fn": (_I, [_P, EVENT_FN, _P]),
    "hf_client_close_idle": (None, [_P, _L]),
    "hf_request_new": (_P, [_S, _S]),
    "hf_request_free": (None, [_P]),
    "hf_request_header": (_I, [_P, _S, _S]),
    "hf_request_set_basic_auth": (_I, [_P, _S, _S]),
    "hf_request_set_auth_methods": (_I, [_P, ctypes.c_uint]),
    "hf_request_body": (_I, [_P, _P, _Z]),
    "hf_request_body_reader": (_I, [_P, READ_FN, _P, _I64]),
    "hf_request_body_file": (_I, [_P, _S]),
    "hf_request_set_insecure": (_I, [_P, _I]),
    "hf_request_set_ca": (_I, [_P, _S, _S]),
    "hf_request_set_client_cert": (_I, [_P, _S, _S, _S]),
    "hf_request_set_follow": (_I, [_P, _L, ctypes.c_uint]),
    "hf_request_set_timeout_ms": (_I, [_P, _L]),
    "hf_request_set_connect_timeout_ms": (_I, [_P, _L]),
    "hf_request_set_phase_timeouts": (_I, [_P, _L, _L, _L, _L]),
    "hf_request_set_max_filesize": (_I, [_P, _I64]),
    "hf_request_set_decompress": (_I, [_P, _I]),
    "hf_request_set_sink": (_I, [_P, WRITE_FN, _P]),
    "hf_request_set_output_file": (_I, [_P, _S]),
    "hf_request_set_head_fn": (_I, [_P, HEAD_FN, _P]),
    "hf_send": (_I, [_P, _P, ctypes.POINTER(_P)]),
    "hf_submit": (_I, [_P, _P, DONE_FN, _P, ctypes.POINTER(_P)]),
    "hf_submit_delayed": (_I, [_P, _P, _L, DONE_FN, _P, ctypes.POINTER(_P)]),
    "hf_client_run": (_I, [_P, _L]),
    "hf_client_pending": (_Z, [_P]),
    "hf_client_fd": (_I, [_P]),
    "hf_client_timeout_ms": (_L, [_P]),
    "hf_client_process": (_I, [_P]),
    "hf_transfer_cancel": (_I, [_P]),
    "hf_transfer_pause": (_I, [_P]),
    "hf_transfer_resume": (_I, [_P]),
    "hf_client_set_limits": (_I, [_P, _L, _L, _L]),
    "hf_client_set_rate": (_I, [_P, ctypes.c_double, _L]),
    "hf_client_set_host_rate": (_I, [_P, ctypes.c_double, _L]),
    "hf_response_free": (None, [_P]),
    "hf_response_status": (_I, [_P]),
    "hf_response_http_minor": (_I, [_P]),
    "hf_response_reason": (_S, [_P]),
    "hf_response_header_count": (_Z, [_P]),
    "hf_response_header_at": (_I, [_P, _Z, ctypes.POINTER(_S), ctypes.POINTER(_S)]),
    "hf_response_body": (_P, [_P, ctypes.POINTER(_Z)]),
    "hf_response_error": (_I, [_P]),
    "hf_response_errmsg": (_S, [_P]),
    "hf_response_url": (_S, [_P]),
    "hf_response_size_download": (_I64, [_P]),
    "hf_response_size_upload": (_I64, [_P]),
    "hf_response_previous": (_P, [_P]),
    "hf_response_num_redirects": (_I, [_P]),
    "hf_response_time_redirect_ns": (_U64, [_P]),
    "hf_response_request_head": (_P, [_P, ctypes.POINTER(_Z)]),
    "hf_response_head_raw": (_P, [_P, ctypes.POINTER(_Z)]),
    "hf_response_conn_id": (_L, [_P]),
    "hf_response_reused": (_I, [_P]),
    "hf_response_local_addr": (_S, [_P]),
    "hf_response_remote_addr": (_S, [_P]),
    "hf_response_time_ns": (_U64, [_P, _I]),
    "hf_response_tls_version": (_S, [_P]),
    "hf_response_tls_cipher": (_S, [_P]),
    "hf_response_trace": (_P, [_P]),
    "hf_trace_count": (_Z, [_P]),
    "hf_trace_event": (_I, [_P, _Z, ctypes.POINTER(Event)]),
    "hf_ev_name": (_S, [_I]),
    "hf_view_event_json": (_P, [ctypes.POINTER(Event)]),
    "hf_view_flow": (_P, [ctypes.POINTER(Event), _Z, ctypes.POINTER(ViewOpts)]),
    "hf_view_stat": (_P, [_P, ctypes.POINTER(ViewOpts)]),
}


class _Lib:
    """The prototypes applied; a function the loaded library lacks raises
    HflowError(BAD_FUNCTION_ARG) when called, so the rest still works."""

    def __init__(self, dll):
        self.missing = []
        for name, (res, args) in _PROTOS.items():
            try:
                fn = getattr(dll, name)
            except AttributeError:
                self.missing.append(name)
                setattr(self, name, self._missing(name))
                continue
            fn.restype = res
            fn.argtypes = args
            setattr(self, name, fn)

    @staticmethod
    def _missing(name):
        def call(*a):
            raise HflowError(_E_BAD_FUNCTION_ARG, "%s is not in this libhflow" % name)
        return call


# constants of hflow.h
HF_OK = 0
_E_UNSUPPORTED_PROTOCOL, _E_BAD_FUNCTION_ARG, _E_TIMEOUT = 1, 43, 28
HF_WRITE_PAUSE = 0x10000001
HF_HEAD_CONTINUE = 0
HF_AUTH_BASIC, HF_AUTH_DIGEST = 1, 2
_TIMES = ("namelookup", "connect", "pretransfer", "starttransfer", "total",
          "appconnect", "posttransfer")          # enum hf_time, in order
_CLOSED_BY = {"": 0, "unknown": 0, "client": 1, "server": 2, "reset": 3}

# ------------------------------------------------------------------ errors


class HflowError(IOError):
    """A failed transfer or call: code is the hf_err value (curl's exit
    code), name its enum name ("TIMEOUT"), message the library's one line
    (the phase, the peer, the time taken).  response holds what was learnt
    (timings, trace) when there is one."""

    def __init__(self, code, message=None, response=None, request=None):
        self.code = int(code)
        self.name = _err_name(self.code)
        self.message = message or _strerror(self.code)
        self.response = response
        self.request = request
        super().__init__("(%d) %s" % (self.code, self.message))


RequestException = HflowError


class ConnectionError(HflowError):      # noqa: A001 (requests' name)
    """Could not resolve, connect, send or receive (6, 7, 52, 55, 56)."""


class Timeout(HflowError):
    """A time limit passed (28)."""


class SSLError(ConnectionError):
    """TLS failed: handshake, certificates, pins (35, 58-60, 77, 90)."""


class TooManyRedirects(HflowError):
    """More redirects than max_redirects (47)."""


class InvalidURL(HflowError, ValueError):
    """A malformed URL or an unsupported scheme (1, 3)."""


class InvalidHeader(HflowError, ValueError):
    """A header name or value the library refuses (2)."""


class HTTPError(HflowError):
    """raise_for_status() on a 4xx or 5xx response (22)."""


class ContentDecodingError(HflowError):
    """A corrupt or truncated compressed body (61)."""


_ERR_CLASS = {6: ConnectionError, 7: ConnectionError, 52: ConnectionError,
              55: ConnectionError, 56: ConnectionError, 28: Timeout,
              35: SSLError, 58: SSLError, 59: SSLError, 60: SSLError,
              77: SSLError, 90: SSLError, 47: TooManyRedirects,
              1: InvalidURL, 3: InvalidURL, 2: InvalidHeader,
              61: ContentDecodingError, 22: HTTPError}


def _error(code, message=None, response=None, request=None):
    return _ERR_CLASS.get(int(code), HflowError)(code, message, response, request)


def _check(code, what):
    if code != HF_OK:
        raise _error(code, "%s: %s" % (what, _strerror(code)))


_L_ = _Lib(_lib)


def _strerror(code):
    return _L_.hf_strerror(int(code)).decode()


def _err_name(code):
    return _L_.hf_err_name(int(code)).decode()


# The error values as module constants: hflow.E_TIMEOUT == 28, ...
for _v in range(0, 128):
    _n = _err_name(_v)
    if _n != "UNKNOWN":
        globals()["E_" + _n] = _v
del _v, _n

# event type names, both ways ("dns_answer" <-> HF_EV_DNS_ANSWER)
_EV_NAMES = {}
for _v in range(0, 64):
    _n = _L_.hf_ev_name(_v).decode()
    if _n == "?":
        break
    _EV_NAMES[_n] = _v
del _v, _n


def _take_str(ptr):
    """A malloc'd C string handed to us: copied, then freed."""
    if not ptr:
        raise MemoryError("libhflow: out of memory")
    try:
        return ctypes.string_at(ptr).decode("utf-8", "replace")
    finally:
        _libc.free(ptr)


def _dec(b):
    return b.decode("utf-8", "replace") if b else ""

# --------------------------------------------------------------- utilities


class CaseInsensitiveDict(collections.abc.MutableMapping):
    """A dict whose keys compare without case; keeps the case last set."""

    def __init__(self, data=None, **kw):
        self._d = collections.OrderedDict()
        self.update(data or {}, **kw)

    def __setitem__(self, k, v):
        self._d[k.lower()] = (k, v)

    def __getitem__(self, k):
        return self._d[k.lower()][1]

    def __delitem__(self, k):
        del self._d[k.lower()]

    def __iter__(self):
        return (k for k, _ in self._d.values())

    def __len__(self):
        return len(self._d)

    def lower_items(self):
        return ((lk, v[1]) for lk, v in self._d.items())

    def __eq__(self, other):
        if isinstance(other, collections.abc.Mapping):
            other = CaseInsensitiveDict(other)
        else:
            return NotImplemented
        return dict(self.lower_items()) == dict(other.lower_items())

    def copy(self):
        return CaseInsensitiveDict(self._d.values())

    def __repr__(self):
        return repr(dict(self.items()))


class HTTPBasicAuth:
    def __init__(self, username, password):
        self.username, self.password = username, password


class HTTPDigestAuth(HTTPBasicAuth):
    """Digest (RFC 7616) in answer to the server's 401 challenge."""


def _ms(seconds):
    """Seconds (float) to the library's ms; at least 1 ms for any limit."""
    return max(1, int(round(float(seconds) * 1000)))


def _encode_form(data):
    if isinstance(data, collections.abc.Mapping):
        data = list(data.items())
    pairs = []
    for k, v in data:
        vs = v if isinstance(v, (list, tuple)) else [v]
        for one in vs:
            pairs.append((k, one))
    return urllib.parse.urlencode(pairs, doseq=False).encode()


def _encode_multipart(data, files):
    """multipart/form-data (RFC 7578): (body, content type)."""
    boundary = "hflow-" + uuid.uuid4().hex
    out = io.BytesIO()

    def part(name, value, filename=None, ctype=None):
        out.write(b"--%s\r\n" % boundary.encode())
        disp = 'form-data; name="%s"' % name.replace('"', "%22")
        if filename is not None:
            disp += '; filename="%s"' % filename.replace('"', "%22")
        out.write(("Content-Disposition: %s\r\n" % disp).encode())
        if ctype:
            out.write(("Content-Type: %s\r\n" % ctype).encode())
        out.write(b"\r\n")
        out.write(value)
        out.write(b"\r\n")

    items = data.items() if isinstance(data, collections.abc.Mapping) else (data or [])
    for k, v in items:
        for one in (v if isinstance(v, (list, tuple)) else [v]):
            part(k, one.encode() if isinstance(one, str) else bytes(one))
    fitems = files.items() if isinstance(files, collections.abc.Mapping) else files
    for k, v in fitems:
        fname, ctype = None, None
        if isinstance(v, (tuple, list)):
            fname, v, ctype = (list(v) + [None])[:3]
        if hasattr(v, "read"):
            if fname is None:
                fname = os.path.basename(str(getattr(v, "name", k)))
            v = v.read()
        if isinstance(v, str):
            v = v.encode()
        part(k, bytes(v), fname if fname is not None else k,
             ctype or "application/octet-stream")
    out.write(b"--%s--\r\n" % boundary.encode())
    return out.getvalue(), "multipart/form-data; boundary=" + boundary


def _file_size_left(f):
    """Bytes from the position to the end, or -1 (then sent chunked)."""
    try:
        if f.seekable():
            cur = f.tell()
            end = f.seek(0, io.SEEK_END)
            f.seek(cur)
            return max(0, end - cur)
    except (AttributeError, OSError, ValueError):
        pass
    return -1

# ---------------------------------------------------------------- requests


class Request:
    """What to send, for Session.map: Request("POST", url, json=...).  Takes
    the keyword arguments of Session.request (not stream)."""

    def __init__(self, method, url, **kwargs):
        if "stream" in kwargs:
            raise TypeError("Request: stream is for Session.request only")
        self.method, self.url, self.kwargs = method.upper(), url, kwargs

    def __repr__(self):
        return "<Request [%s %s]>" % (self.method, self.url)


class _CRequest:
    """An hf_request and everything C borrows from it (callbacks, the body
    source).  free() releases it; nothing is freed behind C's back."""

    def __init__(self, method, url):
        self.ptr = _L_.hf_request_new(method.encode(), url.encode())
        if not self.ptr:
            raise MemoryError("hf_request_new")
        self.keep = []          # ctypes objects C may call or read
        self.body_error = None  # an exception raised by the body source
        self.method, self.url = method, url

    def header(self, name, value):
        rc = _L_.hf_request_header(self.ptr, name.encode("latin-1"),
                                   None if value is None else
                                   str(value).encode("latin-1"))
        if rc != HF_OK:
            raise _error(rc, "header %r: %s" % (name, _strerror(rc)))

    def body_bytes(self, data):
        buf = ctypes.create_string_buffer(data, len(data))
        _check(_L_.hf_request_body(self.ptr, buf, len(data)), "request body")

    def body_source(self, src, length):
        """A file-like object (read) or an iterable of bytes, streamed."""
        if hasattr(src, "read"):
            def pull(cap):
                b = src.read(cap)
                return b.encode() if isinstance(b, str) else b
        else:
            it = iter(src)
            pending = bytearray()

            def pull(cap):
                while not pending:
                    try:
                        b = next(it)
                    except StopIteration:
                        return b""
                    pending.extend(b.encode() if isinstance(b, str) else b)
                out = bytes(pending[:cap])
                del pending[:cap]
                return out

        def read(arg, buf, cap, n):
            try:
                b = pull(cap)
                ctypes.memmove(buf, b, len(b))
                n[0] = len(b)
                return 0
            except BaseException as e:      # reported after the transfer
                self.body_error = e
                return 1
        fn = READ_FN(read)
        self.keep.append(fn)
        _check(_L_.hf_request_body_reader(self.ptr, fn, None, length),
               "request body reader")

    def free(self):
        if self.ptr:
            _L_.hf_request_free(self.ptr)
            self.ptr = None
        self.keep = []

# --------------------------------------------------------------- responses


class Response:
    """One HTTP response (one hop).  Everything is copied from C when the
    transfer ends, so it holds no C memory; a streamed response holds its
    transfer until its body is read or close() is called."""

    def __init__(self):
        self.status_code = 0
        self.reason = ""
        self.http_version = "1.1"
        self.headers = CaseInsensitiveDict()
        self.raw_headers = []           # [(name, value)] as received
        self.url = ""
        self.history = []               # redirect hops, oldest first
        self.trace = []                 # the hop's events as dicts
        self.timings = {}               # seconds, cumulative (curl's -w)
        self.elapsed = datetime.timedelta(0)
        self.error = HF_OK              # hf_err of the transfer
        self.error_message = ""
        self.conn_id = -1
        self.reused = False
        self.local_addr = ""
        self.remote_addr = ""
        self.size_download = 0
        self.size_upload = 0
        self.num_redirects = 0
        self.tls_version = None
        self.tls_cipher = None
        self.request_head = ""          # the request head as sent
        self.head_raw = b""             # the response head as received
        self.request = None             # method, url, headers sent
        self.encoding = None
        self.stat = ""                  # httpstat's waterfall (no colour)
        self.pauses = 0                 # streamed: how often reading paused
        self.max_buffered = 0           # streamed: most bytes waiting at once
        self._content = None
        self._stream = None             # _Transfer while streaming
        self._owner = None              # a Session to close with it

    # -- filled from C
    def _fill_head(self, rs):
        self.status_code = _L_.hf_response_status(rs)
        self.reason = _dec(_L_.hf_response_reason(rs))
        self.http_version = "1.%d" % _L_.hf_response_http_minor(rs)
        self.url = _dec(_L_.hf_response_url(rs))
        raw = []
        name, value = _S(), _S()
        for i in range(_L_.hf_response_header_count(rs)):
            if _L_.hf_response_header_at(rs, i, ctypes.byref(name),
                                         ctypes.byref(value)) != 0:
                break
            raw.append((name.value.decode("latin-1"),
                        (value.value or b"").decode("latin-1")))
        self.raw_headers = raw
        h = CaseInsensitiveDict()
        for k, v in raw:
            h[k] = h[k] + ", " + v if k in h else v
        self.headers = h
        n = _Z()
        p = _L_.hf_response_head_raw(rs, ctypes.byref(n))
        self.head_raw = ctypes.string_at(p, n.value) if p and n.value else b""
        self.encoding = _charset(h.get("Content-Type"))

    def _fill_rest(self, rs, body):
        self.error = _L_.hf_response_error(rs)
        self.error_message = _dec(_L_.hf_response_errmsg(rs))
        if body:
            n = _Z()
            p = _L_.hf_response_body(rs, ctypes.byref(n))
            self._content = ctypes.string_at(p, n.value) if p and n.value else b""
        t = {}
        for i, name in enumerate(_TIMES):
            t[name] = _L_.hf_response_time_ns(rs, i) / 1e9
        t["redirect"] = _L_.hf_response_time_redirect_ns(rs) / 1e9
        self.timings = t
        self.elapsed = datetime.timedelta(seconds=t["starttransfer"] or t["total"])
        self.conn_id = _L_.hf_response_conn_id(rs)
        self.reused = bool(_L_.hf_response_reused(rs))
        self.local_addr = _dec(_L_.hf_response_local_addr(rs))
        self.remote_addr = _dec(_L_.hf_response_remote_addr(rs))
        self.size_download = _L_.hf_response_size_download(rs)
        self.size_upload = _L_.hf_response_size_upload(rs)
        self.num_redirects = _L_.hf_response_num_redirects(rs)
        v = _L_.hf_response_tls_version(rs)
        self.tls_version = v.decode() if v else None
        v = _L_.hf_response_tls_cipher(rs)
        self.tls_cipher = v.decode() if v else None
        n = _Z()
        p = _L_.hf_response_request_head(rs, ctypes.byref(n))
        self.request_head = (ctypes.string_at(p, n.value).decode("latin-1")
                             if p and n.value else "")
        self.request = _SentRequest(self.request_head)
        self.trace = _trace_dicts(_L_.hf_response_trace(rs))
        self.stat = _take_str(_L_.hf_view_stat(rs, None))

    @classmethod
    def _from_c(cls, rs):
        """The final response and its redirect hops, copied."""
        r = cls()
        r._fill_head(rs)
        r._fill_rest(rs, True)
        hops = []
        p = _L_.hf_response_previous(rs)
        while p:
            h = cls()
            h._fill_head(p)
            h._fill_rest(p, True)
            hops.append(h)
            p = _L_.hf_response_previous(p)
        hops.reverse()
        r.history = hops
        return r

    # -- the requests surface
    @property
    def ok(self):
        return self.status_code < 400

    @property
    def is_redirect(self):
        return "location" in self.headers and self.status_code in (
            301, 302, 303, 307, 308)

    def raise_for_status(self):
        if 400 <= self.status_code < 600:
            kind = "Client" if self.status_code < 500 else "Server"
            raise HTTPError(22, "%d %s Error: %s for url: %s" % (
                self.status_code, kind, self.reason, self.url), response=self)

    @property
    def content(self):
        if self._content is None:
            self._content = b"".join(self.iter_content(None)) if self._stream else b""
        return self._content

    @property
    def text(self):
        return self.content.decode(self.encoding or "utf-8", "replace")

    def json(self, **kw):
        return _json.loads(self.content.decode(self.encoding or "utf-8"), **kw)

    @property
    def cookies(self):
        """The cookies this response set (name -> value)."""
        out = {}
        for k, v in self.raw_headers:
            if k.lower() == "set-cookie":
                nv = v.split(";", 1)[0]
                if "=" in nv:
                    n, _, val = nv.partition("=")
                    out[n.strip()] = val.strip()
        return out

    @property
    def links(self):
        return {}

    def iter_content(self, chunk_size=1, decode_unicode=False):
        """The body in pieces of chunk_size bytes (None: as they arrive).
        A streamed body is read as it is consumed: while more than the
        session's stream_buffer bytes wait here, the transfer is paused
        and the socket is not read (the server is held back by TCP)."""
        if self._stream is None:
            data = self.content
            step = chunk_size or len(data) or 1
            gen = (data[i:i + step] for i in range(0, len(data), step))
        else:
            gen = self._stream.iter_body(self, chunk_size)
        if decode_unicode:
            return _decode_stream(gen, self.encoding or "utf-8")
        return gen

    def iter_lines(self, chunk_size=512, decode_unicode=False, delimiter=None):
        pending = None
        for chunk in self.iter_content(chunk_size, decode_unicode):
            if pending is not None:
                chunk = pending + chunk
            lines = chunk.split(delimiter) if delimiter else chunk.splitlines()
            if lines and lines[-1] and chunk and lines[-1][-1] == chunk[-1]:
                pending = lines.pop()
            else:
                pending = None
            yield from lines
        if pending is not None:
            yield pending

    def flow(self, width=0, color=False):
        """The sequence diagram of this hop's events (hf_view_flow)."""
        return view_flow(self.trace, width, color)

    def close(self):
        """Stop a streamed transfer that is still running (cancel it: its
        connection is closed) and free it.  Harmless otherwise."""
        tr, self._stream = self._stream, None
        try:
            if tr is not None:
                tr.close()
        finally:
            owner, self._owner = self._owner, None
            if owner is not None:
                owner.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def __del__(self):
        # Never drive the loop from here (a finalizer may run at any
        # point): cancel, and the session finishes the transfer later.
        tr, self._stream = self._stream, None
        if tr is not None:
            try:
                tr.abandon()
            except Exception:
                pass
        owner, self._owner = self._owner, None
        if owner is not None:
            try:
                owner.close()
            except Exception:
                pass

    def __bool__(self):
        return self.ok

    def __repr__(self):
        return "<Response [%d]>" % self.status_code


class _SentRequest:
    """The request as it left: method, url path, headers (from its head)."""

    def __init__(self, head):
        lines = head.split("\r\n")
        first = lines[0].split(" ") if lines and lines[0] else ["", "", ""]
        self.method = first[0]
        self.path_url = first[1] if len(first) > 1 else ""
        self.headers = CaseInsensitiveDict()
        for line in lines[1:]:
            if ":" in line:
                k, _, v = line.partition(":")
                self.headers[k] = v.strip()


def _charset(ctype):
    if not ctype:
        return None
    for param in ctype.split(";")[1:]:
        k, _, v = param.strip().partition("=")
        if k.lower() == "charset" and v:
            return v.strip('"\' ')
    base = ctype.split(";")[0].strip().lower()
    if base.startswith("text/"):
        return "ISO-8859-1"             # RFC 2616's default, as requests
    return None


def _decode_stream(gen, encoding):
    import codecs
    dec = codecs.getincrementaldecoder(encoding)(errors="replace")
    for chunk in gen:
        s = dec.decode(chunk)
        if s:
            yield s
    s = dec.decode(b"", final=True)
    if s:
        yield s


def _trace_dicts(tr):
    """hf_trace -> [dict] through hf_view_event_json (docs/TRACE.md)."""
    out = []
    if not tr:
        return out
    ev = Event()
    for i in range(_L_.hf_trace_count(tr)):
        if _L_.hf_trace_event(tr, i, ctypes.byref(ev)) != 0:
            break
        out.append(_json.loads(_take_str(_L_.hf_view_event_json(ctypes.byref(ev)))))
    return out


def view_flow(events, width=0, color=False):
    """The sequence diagram (hf_view_flow) of trace dicts: a response's
    trace, or the events of one connection from Session(record_events=True)."""
    n = len(events)
    arr = (Event * max(1, n))()
    keep = []
    for i, d in enumerate(events):
        e = arr[i]
        e.type = _EV_NAMES.get(d.get("ev"), 0)
        e.t_ns = int(d.get("t_ns", 0))
        e.mono_ns = int(d.get("mono_ns", 0))
        e.transfer = int(d.get("transfer", 0))
        e.conn = int(d.get("conn", -1))
        for f in ("peer", "local", "detail"):
            b = ctypes.c_char_p(str(d.get(f, "")).encode())
            keep.append(b)
            setattr(e, f, b.value)
        e.value = int(d.get("value", 0))
        e.closed_by = _CLOSED_BY.get(d.get("closed_by", ""), 0)
        tcp = d.get("tcp")
        if tcp:
            e.tcp.valid = 1
            for f, _ in TcpInfo._fields_[1:]:
                setattr(e.tcp, f, int(tcp.get(f, 0)))
    o = ViewOpts(int(width), 1 if color else 0)
    return _take_str(_L_.hf_view_flow(arr, n, ctypes.byref(o)))

# --------------------------------------------------------------- transfers


class _Transfer:
    """One submitted request (hf_submit) until its done callback ran; for
    stream=True it also holds the body chunks waiting to be read."""

    def __init__(self, session, creq, stream=False, bound=0):
        self.session = session
        self.creq = creq
        self.x = None                   # hf_transfer*, None once done
        self.done = False
        self.err = HF_OK
        self.response = None            # the copied Response (when done)
        self.exc = None                 # a Python exception from a callback
        self.stream = stream
        self.bound = bound
        self.chunks = collections.deque()
        self.buffered = 0
        self.paused = False
        self.pauses = 0
        self.max_buffered = 0
        self.head = None                # a Response with the head (stream)
        self.got_head = False
        self.closing = False
        self._done_fn = DONE_FN(self._on_done)
        if stream:
            self._sink_fn = WRITE_FN(self._on_data)
            self._head_fn = HEAD_FN(self._on_head)
            _check(_L_.hf_request_set_sink(creq.ptr, self._sink_fn, None), "sink")
            _check(_L_.hf_request_set_head_fn(creq.ptr, self._head_fn, None),
                   "head callback")

    def submit(self, delay_ms=0):
        x = _P()
        if delay_ms > 0:
            rc = _L_.hf_submit_delayed(self.session._c, self.creq.ptr,
                                       int(delay_ms), self._done_fn, None,
                                       ctypes.byref(x))
        else:
            rc = _L_.hf_submit(self.session._c, self.creq.ptr, self._done_fn,
                               None, ctypes.byref(x))
        if rc != HF_OK:
            raise _error(rc, "submit %s %s: %s" % (self.creq.method, self.creq.url,
                                                    _strerror(rc)))
        self.x = x.value
        self.session._live.add(self)

    # -- callbacks (from inside hf_client_process / run / hf_send)
    def _on_head(self, arg, rs):
        try:
            h = Response()
            h._fill_head(rs)
            self.head = h
            self.got_head = True
        except BaseException as e:
            self.exc = e
            return 2                    # HF_HEAD_ABORT
        return HF_HEAD_CONTINUE

    def _on_data(self, arg, data, n):
        if self.closing:
            return 1                    # abort: nobody reads it any more
        try:
            self.chunks.append(ctypes.string_at(data, n))
            self.buffered += n
            self.max_buffered = max(self.max_buffered, self.buffered)
            if self.buffered >= self.bound:
                self.paused = True
                self.pauses += 1
                return HF_WRITE_PAUSE   # taken; nothing more until resume
            return 0
        except BaseException as e:
            self.exc = e
            return 1

    def _on_done(self, arg, x, rs, err):
        self.done = True
        self.x = None                   # invalid once this returns
        self.err = err
        try:
            if rs:
                self.response = Response._from_c(rs)
        except BaseException as e:
            self.exc = e
        finally:
            if rs:
                _L_.hf_response_free(rs)
        # the request may be freed from here (hflow.h); its callbacks stay
        # referenced by this object until the session sweeps it

    # -- the result
    def result(self):
        """The Response, or raise the transfer's error."""
        if self.exc is not None:
            raise self.exc
        if self.creq.body_error is not None:
            raise self.creq.body_error
        r = self.response
        if r is None:
            raise _error(self.err or 27, None)
        if self.err != HF_OK:
            raise _error(self.err, r.error_message, response=r)
        return r

    # -- streaming
    def iter_body(self, resp, chunk_size):
        low = self.bound // 2
        pending = bytearray()
        try:
            while True:
                while self.chunks and (chunk_size is None or len(pending) < chunk_size):
                    c = self.chunks.popleft()
                    self.buffered -= len(c)
                    pending += c
                if self.paused and self.buffered <= low and self.x:
                    self.paused = False
                    _check(_L_.hf_transfer_resume(self.x), "resume")
                if chunk_size is None:
                    if pending:
                        out = bytes(pending)
                        pending.clear()
                        yield out
                        continue
                else:
                    while len(pending) >= chunk_size:
                        out = bytes(pending[:chunk_size])
                        del pending[:chunk_size]
                        yield out
                if self.done and not self.chunks:
                    break
                if not self.chunks:
                    self.session._step()
            out, pending = bytes(pending), bytearray()
            if out:
                yield out
            self._finish(resp)
        finally:
            # an iterator dropped early leaves the transfer as it is (paused
            # at most): a later iter_content goes on, close() cancels it
            if pending:
                self.chunks.appendleft(bytes(pending))
                self.buffered += len(pending)

    def _finish(self, resp):
        """Copy what the done callback left into the streamed response."""
        self.session._live.discard(self)
        resp._stream = None
        owner, resp._owner = resp._owner, None
        if owner is not None:
            owner.close()
        resp.pauses, resp.max_buffered = self.pauses, self.max_buffered
        final = self.response
        self.creq.free()
        if final is not None:
            for k in ("trace", "timings", "elapsed", "error", "error_message",
                      "conn_id", "reused", "local_addr", "remote_addr",
                      "size_download", "size_upload", "num_redirects",
                      "tls_version", "tls_cipher", "request_head", "request",
                      "history", "stat"):
                setattr(resp, k, getattr(final, k))
        if self.exc is not None:
            raise self.exc
        if self.err != HF_OK:
            raise _error(self.err, final.error_message if final else None,
                         response=resp)

    def abandon(self):
        """Cancel without waiting: the session frees it once it is done
        (_sweep).  Safe from anywhere, callbacks included."""
        if not self.done and self.x and not self.closing:
            self.closing = True
            _L_.hf_transfer_cancel(self.x)
        self.chunks.clear()
        self.buffered = 0

    def close(self):
        """Cancel if still running, run the loop until the done callback
        ran (bounded), free."""
        self.abandon()
        for _ in range(200):
            if self.done or self.session._c is None:
                break
            self.session._step(50)
        if self.done:
            self.session._live.discard(self)
            self.creq.free()

# ----------------------------------------------------------------- session


class Session:
    """An hf_client: its connection pool (kept-alive connections are
    reused), its DNS cache and cookie engine, and its loop.  Use it from one
    thread at a time.  Close it (or use `with`) to close its connections.

    Attributes used as defaults by every request: headers, auth, verify,
    cert, timeout, max_redirects (30), decompress (True), stream_buffer
    (bytes a streamed response may hold before its transfer is paused).

    Keyword arguments: resolve=["host:port:addr"], dns_servers="addr",
    hosts_file=path, resolv_conf=path, ip_family=0/4/6, cookies=True,
    record_events=False (session.events: every event of every transfer
    and connection, as dicts), max_transfers / max_per_host /
    max_conns_per_host (hf_client_set_limits), rate / host_rate (starts a
    second, hf_client_set_rate / hf_client_set_host_rate)."""

    def __init__(self, resolve=(), dns_servers=None, hosts_file=None,
                 resolv_conf=None, ip_family=0, cookies=True,
                 record_events=False, max_transfers=0, max_per_host=0,
                 max_conns_per_host=0, rate=0.0, host_rate=0.0):
        self._c = None
        self._live = set()              # transfers C may still call
        self._lock = threading.Lock()
        self._in_loop = 0               # inside a C call that runs callbacks
        self._loop_thread = None
        c = _L_.hf_client_new()
        if not c:
            raise MemoryError("hf_client_new")
        self._c = c
        self.headers = CaseInsensitiveDict()
        self.auth = None
        self.verify = True
        self.cert = None
        self.timeout = None
        self.max_redirects = 30
        self.decompress = True
        self.stream_buffer = 1 << 20
        self.events = []
        self._event_fn = None
        try:
            for spec in ([resolve] if isinstance(resolve, str) else resolve):
                _check(_L_.hf_client_resolve(c, spec.encode()), "resolve %r" % spec)
            if dns_servers:
                _check(_L_.hf_client_set_dns_servers(c, dns_servers.encode()),
                       "dns servers")
            if hosts_file or resolv_conf:
                _check(_L_.hf_client_set_dns_files(
                    c, resolv_conf.encode() if resolv_conf else None,
                    hosts_file.encode() if hosts_file else None), "dns files")
            if ip_family:
                _check(_L_.hf_client_set_ip_family(c, ip_family), "ip family")
            if cookies:
                _check(_L_.hf_client_cookies_enable(c), "cookies")
            if record_events:
                self._event_fn = EVENT_FN(self._on_event)
                _check(_L_.hf_client_set_event_fn(c, self._event_fn, None),
                       "event callback")
            self._limits = (0, 0, 0)
            self._rates = (0.0, 0.0)
            if max_transfers or max_per_host or max_conns_per_host:
                self.set_limits(max_transfers, max_per_host, max_conns_per_host)
            if rate or host_rate:
                self.set_rate(rate, host_rate)
        except BaseException:
            self.close()
            raise

    def _on_event(self, arg, ev):
        try:
            self.events.append(_json.loads(_take_str(_L_.hf_view_event_json(ev))))
        except Exception:
            pass

    # -- settings
    def set_limits(self, max_transfers=0, max_per_host=0, max_conns_per_host=0):
        """Transfers at once in all and per host, connections per host
        (0: no limit)."""
        _check(_L_.hf_client_set_limits(self._c, int(max_transfers or 0),
                                        int(max_per_host or 0),
                                        int(max_conns_per_host or 0)), "limits")
        self._limits = (max_transfers or 0, max_per_host or 0,
                        max_conns_per_host or 0)

    def set_rate(self, per_second=0.0, per_host_per_second=0.0, burst=0,
                 host_burst=0):
        """Token buckets for transfer starts: in all and to each host."""
        _check(_L_.hf_client_set_rate(self._c, float(per_second or 0), int(burst)),
               "rate")
        _check(_L_.hf_client_set_host_rate(self._c, float(per_host_per_second or 0),
                                           int(host_burst)), "host rate")
        self._rates = (per_second or 0.0, per_host_per_second or 0.0)

    @property
    def num_connects(self):
        """TCP connections this session has opened."""
        return _L_.hf_client_num_connects(self._c)

    # -- cookies (the client's engine; curl's jar format in between)
    def cookie_list(self):
        """Every cookie the engine holds: dicts with name, value, domain,
        path, secure, http_only, host_only, expires (0: session cookie)."""
        fd, path = tempfile.mkstemp(prefix="hflow-jar-")
        os.close(fd)
        try:
            _check(_L_.hf_client_cookies_save(self._c, path.encode()), "cookies")
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
        finally:
            os.unlink(path)
        out = []
        for line in text.splitlines():
            http_only = line.startswith("#HttpOnly_")
            if http_only:
                line = line[len("#HttpOnly_"):]
            elif not line or line.startswith("#"):
                continue
            f = line.split("\t")
            if len(f) < 7:
                continue
            out.append({"domain": f[0].lstrip("."), "host_only": f[1] != "TRUE",
                        "path": f[2], "secure": f[3] == "TRUE",
                        "expires": int(f[4] or 0), "name": f[5],
                        "value": "\t".join(f[6:]), "http_only": http_only})
        return out

    @property
    def cookies(self):
        """The engine's cookies as {name: value} (a snapshot)."""
        return {c["name"]: c["value"] for c in self.cookie_list()}

    def set_cookie(self, name, value, domain, path="/", secure=False,
                   expires=0, include_subdomains=False):
        """Put a cookie in the engine, as a line of a jar file would."""
        line = "%s%s\t%s\t%s\t%s\t%d\t%s\t%s\n" % (
            "." if include_subdomains else "", domain,
            "TRUE" if include_subdomains else "FALSE", path,
            "TRUE" if secure else "FALSE", int(expires), name, value)
        fd, tmp = tempfile.mkstemp(prefix="hflow-jar-")
        try:
            os.write(fd, line.encode())
            os.close(fd)
            self.load_cookies(tmp)
        finally:
            os.unlink(tmp)

    def load_cookies(self, path, junk_session=False):
        _check(_L_.hf_client_cookies_load(self._c, os.fsencode(path),
                                          1 if junk_session else 0), "load cookies")

    def save_cookies(self, path):
        _check(_L_.hf_client_cookies_save(self._c, os.fsencode(path)),
               "save cookies")

    # -- building an hf_request from requests' arguments
    def _prepare(self, method, url, params=None, data=None, json=None,
                 headers=None, cookies=None, files=None, auth=None,
                 timeout=None, allow_redirects=True, verify=None, cert=None,
                 max_time=None, max_size=None, output=None, body_file=None,
                 decompress=None):
        method = method.upper()
        if params:
            q = _encode_form(params).decode()
            url += ("&" if "?" in url else "?") + q if q else ""
        rq = _CRequest(method, url)
        try:
            self._apply(rq, method, data, json, headers, cookies, files, auth,
                        timeout, allow_redirects, verify, cert, max_time,
                        max_size, output, body_file, decompress)
        except BaseException:
            rq.free()
            raise
        return rq

    def _apply(self, rq, method, data, json, headers, cookies, files, auth,
               timeout, allow_redirects, verify, cert, max_time, max_size,
               output, body_file, decompress):
        p = rq.ptr
        hdrs = self.headers.copy()
        for k, v in (headers or {}).items():
            hdrs[k] = v
        ctype = None
        if files:
            body, ctype = _encode_multipart(data, files)
            rq.body_bytes(body)
        elif json is not None:
            rq.body_bytes(_json.dumps(json).encode())
            ctype = "application/json"
        elif body_file is not None:
            _check(_L_.hf_request_body_file(p, os.fsencode(body_file)), "body file")
        elif data is not None:
            if isinstance(data, (bytes, bytearray, memoryview)):
                rq.body_bytes(bytes(data))
            elif isinstance(data, str):
                rq.body_bytes(data.encode())
            elif isinstance(data, (collections.abc.Mapping, list, tuple)):
                rq.body_bytes(_encode_form(data))
                ctype = "application/x-www-form-urlencoded"
            elif hasattr(data, "read"):
                rq.body_source(data, _file_size_left(data))
            elif hasattr(data, "__iter__"):
                rq.body_source(data, -1)
            else:
                raise TypeError("data: bytes, str, a dict, a file or an iterable")
        if ctype and "content-type" not in hdrs:
            hdrs["Content-Type"] = ctype
        if cookies:
            hdrs["Cookie"] = "; ".join("%s=%s" % kv for kv in cookies.items())
        for k, v in hdrs.items():
            rq.header(k, v)
        auth = auth if auth is not None else self.auth
        if auth:
            if isinstance(auth, (tuple, list)):
                auth = HTTPBasicAuth(*auth)
            _check(_L_.hf_request_set_basic_auth(p, auth.username.encode(),
                                                 (auth.password or "").encode()),
                   "auth")
            if isinstance(auth, HTTPDigestAuth):
                _check(_L_.hf_request_set_auth_methods(p, HF_AUTH_DIGEST), "auth")
        timeout = timeout if timeout is not None else self.timeout
        if timeout is not None:
            # requests' meaning: a limit on connecting and on each wait for
            # the server (first byte, then any silence), not on the whole
            # transfer (max_time is that)
            if isinstance(timeout, (tuple, list)):
                ct, rt = timeout
            else:
                ct = rt = timeout
            if ct is not None:
                _check(_L_.hf_request_set_connect_timeout_ms(p, _ms(ct)), "timeout")
            if rt is not None:
                _check(_L_.hf_request_set_phase_timeouts(p, 0, _ms(rt), _ms(rt),
                                                         _ms(rt)), "timeout")
        if max_time is not None:
            _check(_L_.hf_request_set_timeout_ms(p, _ms(max_time)), "max_time")
        if max_size is not None:
            _check(_L_.hf_request_set_max_filesize(p, int(max_size)), "max_size")
        if allow_redirects:
            _check(_L_.hf_request_set_follow(p, int(self.max_redirects), 0),
                   "redirects")
        verify = self.verify if verify is None else verify
        if verify is False:
            _check(_L_.hf_request_set_insecure(p, 1), "verify")
        elif isinstance(verify, (str, bytes, os.PathLike)):
            v = os.fsencode(verify)
            _check(_L_.hf_request_set_ca(p, None if os.path.isdir(v) else v,
                                         v if os.path.isdir(v) else None), "verify")
        cert = cert if cert is not None else self.cert
        if cert:
            c, k = (cert if isinstance(cert, (tuple, list)) else (cert, None))
            _check(_L_.hf_request_set_client_cert(
                p, os.fsencode(c), os.fsencode(k) if k else None, None), "cert")
        dec = self.decompress if decompress is None else decompress
        if dec and method != "HEAD":
            _check(_L_.hf_request_set_decompress(p, 1), "decompress")
        if output is not None:
            _check(_L_.hf_request_set_output_file(p, os.fsencode(output)), "output")

    # -- sending
    def request(self, method, url, params=None, data=None, headers=None,
                cookies=None, files=None, auth=None, timeout=None,
                allow_redirects=True, proxies=None, hooks=None, stream=False,
                verify=None, cert=None, json=None, **hflow_kw):
        """Send one request; requests' arguments.  timeout: seconds, or
        (connect, read); it bounds connecting and each wait for the server,
        not the whole transfer (max_time=S does that, curl's -m).  More:
        max_size (curl's --max-filesize), output=PATH (the body to a file),
        body_file=PATH (the body from a file), decompress=False.
        Errors raise HflowError subclasses carrying .code and .message."""
        if proxies:
            raise HflowError(_E_UNSUPPORTED_PROTOCOL, "hflow has no proxy support yet")
        with self._busy():
            rq = self._prepare(method, url, params=params, data=data, json=json,
                               headers=headers, cookies=cookies, files=files,
                               auth=auth, timeout=timeout,
                               allow_redirects=allow_redirects, verify=verify,
                               cert=cert, **hflow_kw)
            if stream:
                return self._send_stream(rq)
            try:
                return self._send(rq)
            finally:
                rq.free()

    def _send(self, rq):
        out = _P()
        with self._looping():
            rc = _L_.hf_send(self._c, rq.ptr, ctypes.byref(out))
        if not out.value:
            raise _error(rc or 27, "out of memory")
        try:
            r = Response._from_c(out.value)
        finally:
            _L_.hf_response_free(out.value)
        if rq.body_error is not None:
            raise rq.body_error
        if rc != HF_OK:
            raise _error(rc, r.error_message, response=r)
        return r

    def _send_stream(self, rq):
        tr = _Transfer(self, rq, stream=True, bound=max(1, int(self.stream_buffer)))
        try:
            tr.submit()
        except BaseException:
            rq.free()
            raise
        try:
            while not tr.got_head and not tr.done:
                self._step()
        except BaseException:
            tr.close()
            raise
        if not tr.got_head:              # ended before a final head
            tr.close()
            return tr.result()
        r, tr.head = tr.head, None       # no cycle: the response holds tr
        r._stream = tr
        if tr.done:                      # already over: read it now
            r._content = b"".join(tr.iter_body(r, None))
        return r

    def _step(self, cap_ms=1000):
        """Wait for the client's fd or its next timer (at most cap_ms),
        then hf_client_process."""
        fd = _L_.hf_client_fd(self._c)
        t = _L_.hf_client_timeout_ms(self._c)
        if t < 0 or t > cap_ms:
            t = cap_ms
        if t > 0 and fd >= 0:
            po = select.poll()
            po.register(fd, select.POLLIN)
            po.poll(t)
        with self._looping():
            rc = _L_.hf_client_process(self._c)
        self._sweep()
        if rc != HF_OK:
            raise _error(rc, "hf_client_process: %s" % _strerror(rc))

    def _sweep(self):
        """Free the abandoned transfers that are over."""
        for t in [t for t in self._live if t.done and t.closing]:
            self._live.discard(t)
            t.creq.free()

    def _looping(self):
        """Marks a C call that runs the loop (and so the callbacks)."""
        session = self

        class _Mark:
            def __enter__(m):
                session._in_loop += 1
                session._loop_thread = threading.get_ident()

            def __exit__(m, *a):
                session._in_loop -= 1
        return _Mark()

    def _busy(self):
        """One caller at a time, and none from inside the session's own
        callbacks (a body generator, say): hflow forbids running a client's
        loop from its callbacks."""
        lock = self._lock
        session = self

        class _Guard:
            def __enter__(g):
                if session._c is None:
                    raise HflowError(_E_BAD_FUNCTION_ARG, "the session is closed")
                if session._in_loop and \
                        session._loop_thread == threading.get_ident():
                    raise RuntimeError("hflow.Session called from inside one of "
                                       "its own callbacks")
                if not lock.acquire(blocking=False):
                    raise RuntimeError("hflow.Session used from two threads at "
                                       "once (one client per thread)")

            def __exit__(g, *a):
                lock.release()
        return _Guard()

    def map(self, items, max_transfers=None, max_per_host=None,
            max_conns_per_host=None, rate=None, host_rate=None,
            return_exceptions=False, **kwargs):
        """Send many requests at once on this session's loop (hf_submit,
        then hf_client_run) and return their responses in order.  items:
        URLs (GET) or Request objects; kwargs apply to every item.  The
        limits and rates given apply to this call only.  A failed transfer
        raises its error once all are over, or with return_exceptions is
        its exception object in the list."""
        with self._busy():
            old_limits, old_rates = self._limits, self._rates
            if (max_transfers, max_per_host, max_conns_per_host) != (None,) * 3:
                self.set_limits(max_transfers or 0, max_per_host or 0,
                                max_conns_per_host or 0)
            if (rate, host_rate) != (None, None):
                self.set_rate(rate or 0, host_rate or 0)
            trs = []
            try:
                for it in items:
                    if isinstance(it, str):
                        it = Request("GET", it)
                    kw = dict(kwargs)
                    kw.update(it.kwargs)
                    rq = self._prepare(it.method, it.url, **kw)
                    tr = _Transfer(self, rq)
                    try:
                        tr.submit()
                    except BaseException:
                        rq.free()
                        raise
                    trs.append(tr)
                mine = set(trs)
                self._run_until(lambda: all(t.done for t in trs), mine)
            except BaseException:
                for t in trs:
                    t.close()
                raise
            finally:
                for t in trs:
                    if t.done:
                        self._live.discard(t)
                        t.creq.free()
                if self._limits != old_limits:
                    self.set_limits(*old_limits)
                if self._rates != old_rates:
                    self.set_rate(*old_rates)
            out = []
            first = None
            for t in trs:
                try:
                    out.append(t.result())
                except Exception as e:
                    if not return_exceptions and first is None:
                        first = e
                    out.append(e)
            if first is not None:
                raise first
            return out

    def _run_until(self, pred, mine, slice_ms=250):
        """Drive the loop until pred() holds: hf_client_run in slices (so
        Ctrl-C is seen between them) when only the transfers of this call
        are in the client; else turn by turn (another transfer, a paused
        stream say, would keep hf_client_run from returning early)."""
        while not pred():
            if any(t not in mine for t in self._live):
                self._step()
                continue
            with self._looping():
                rc = _L_.hf_client_run(self._c, slice_ms)
            self._sweep()
            if rc not in (HF_OK, _E_TIMEOUT):
                raise _error(rc, "hf_client_run: %s" % _strerror(rc))
            if rc == HF_OK and not pred():
                raise HflowError(_E_BAD_FUNCTION_ARG, "hf_client_run: no transfer left but "
                                     "some never finished")

    def get(self, url, **kw):
        return self.request("GET", url, **kw)

    def head(self, url, **kw):
        kw.setdefault("allow_redirects", False)
        return self.request("HEAD", url, **kw)

    def options(self, url, **kw):
        return self.request("OPTIONS", url, **kw)

    def post(self, url, data=None, json=None, **kw):
        return self.request("POST", url, data=data, json=json, **kw)

    def put(self, url, data=None, **kw):
        return self.request("PUT", url, data=data, **kw)

    def patch(self, url, data=None, **kw):
        return self.request("PATCH", url, data=data, **kw)

    def delete(self, url, **kw):
        return self.request("DELETE", url, **kw)

    def download(self, url, path, **kw):
        """The body straight to a file (hf_request_set_output_file); the
        Response has no content."""
        return self.request("GET", url, output=path, **kw)

    def close_idle(self, wait_ms=0):
        _L_.hf_client_close_idle(self._c, int(wait_ms))

    def close(self):
        """Cancel what is still running, close the connections, free."""
        if self._c is None:
            return
        for t in list(self._live):
            try:
                t.close()
            except Exception:
                pass
        _L_.hf_client_free(self._c)
        self._c = None
        for t in self._live:            # C has let go of them now
            t.creq.free()
        self._live.clear()
        self._event_fn = None

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

# ---------------------------------------------------- module-level helpers


def request(method, url, **kwargs):
    """One request on a fresh Session, closed afterwards (or, with
    stream=True, when the response is closed or read to the end)."""
    s = Session()
    try:
        r = s.request(method, url, **kwargs)
    except BaseException:
        s.close()
        raise
    if r._stream is not None:
        r._owner = s            # closed with the response, or at its end
    else:
        s.close()
    return r


def get(url, params=None, **kw):
    return request("GET", url, params=params, **kw)


def head(url, **kw):
    kw.setdefault("allow_redirects", False)
    return request("HEAD", url, **kw)


def options(url, **kw):
    return request("OPTIONS", url, **kw)


def post(url, data=None, json=None, **kw):
    return request("POST", url, data=data, json=json, **kw)


def put(url, data=None, **kw):
    return request("PUT", url, data=data, **kw)


def patch(url, data=None, **kw):
    return request("PATCH", url, data=data, **kw)


def delete(url, **kw):
    return request("DELETE", url, **kw)


def download(url, path, **kw):
    with Session() as s:
        return s.download(url, path, **kw)


def map(items, **kw):       # noqa: A001 (grequests' name)
    """Session().map(items, **kw) on a fresh session."""
    with Session() as s:
        return s.map(items, **kw)
