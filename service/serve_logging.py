"""What the HTTP servers in front of the app log of a request: never its query
string, never the text of a request line they could not parse.

A URL's query string is the caller's words (`?patient=...`, a name, a record
number): the service reads none, and the service's own log line names the
service id and hookInstance only (service/logs.py). The servers log requests
too:
- Flask's development server (`mbc-cds serve --dev`) writes one access line per
  request, query string included, and the raw request line of one it cannot parse;
- gunicorn (`mbc-cds serve`, `make run`, the Docker image) has no access log
  (accesslog None; an operator may turn one on, its request line, query and
  referer atoms are then written without the query) but warns "Invalid request
  from ip=...: Invalid HTTP request line: '<the line as sent>'" for a request it
  cannot parse.
"""

from __future__ import annotations

import logging
import re

from gunicorn.glogging import Logger as GunicornLogger
from gunicorn.instrument.statsd import Statsd as GunicornStatsdLogger
from werkzeug.serving import WSGIRequestHandler

# What follows a server's own words in its error text: ": 'GET /x?patient=...'",
# ": b'...'", " ('GET /x?...')" or ": (9, 9)" (gunicorn/http/errors.py quotes with %r).
_CALLER_TEXT = re.compile(r"(?::\s*|\s*\()(?:b?['\"]|\().*\Z", re.DOTALL)


def without_query(uri: str) -> str:
    """The path of a request target, its query string (and fragment) dropped."""
    path, query_mark, _ = uri.partition("?")
    path = path.partition("#")[0]
    return path + "?[query not logged]" if query_mark else path


def without_caller_text(text: str) -> str:
    """A server's error text up to where it quotes what the caller sent."""
    kept, count = _CALLER_TEXT.subn("", text)
    return kept + " [request text not logged]" if count else text


class QuerylessRequestHandler(WSGIRequestHandler):
    """The development server's request handler: access lines without the query string."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = getattr(self, "path", None)
        if path is None:  # the request line could not be parsed: werkzeug would log it as sent
            self.log("info", '"%s" %s %s', "[unparsable request line not logged]", code, size)
            return
        self.path = without_query(path)
        try:
            super().log_request(code, size)
        finally:
            self.path = path

    def log_error(self, format: str, *args) -> None:
        # e.g. "code 400, message Bad request syntax ('GET /x?patient=... junk')"
        super().log_error(format, *(without_caller_text(a) if isinstance(a, str) else a for a in args))


class _CallerTextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith("Invalid request from ip="):
            record.msg, record.args = without_caller_text(message), ()
        elif message.startswith("Error handling request"):  # "... %s %s", method, uri
            record.args = tuple(without_query(a) if isinstance(a, str) else a for a in record.args or ())
        return True


# gunicorn's access-log atoms that carry a query string: the request line, the query,
# the referer (the caller's page, `?patient=...` as well) and the raw URI (gunicorn
# glogging.Logger.atoms; settings access_log_format and accesslog)
_URL_ATOMS = ("f", "{referer}i", "{http_referer}e", "{raw_uri}e", "{request_uri}e")
_QUERY_ATOMS = ("q", "{query_string}e")


class _Queryless:
    """A gunicorn logger's error log filtered (_CallerTextFilter) and its access log, when an
    operator turns it on, without query strings."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        if not any(isinstance(f, _CallerTextFilter) for f in self.error_log.filters):
            self.error_log.addFilter(_CallerTextFilter())

    def atoms(self, resp, req, environ, request_time) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["r"] = "%s %s %s" % (environ["REQUEST_METHOD"], without_query(environ["RAW_URI"]),
                                   environ["SERVER_PROTOCOL"])
        for name in _URL_ATOMS:
            if isinstance(atoms.get(name), str):
                atoms[name] = without_query(atoms[name])
        for name in _QUERY_ATOMS:
            if atoms.get(name):
                atoms[name] = "[query not logged]"
        return atoms


class QuerylessGunicornLogger(_Queryless, GunicornLogger):
    """gunicorn's logger with its error log filtered and its access log (off unless an
    operator turns it on) without query strings (gunicorn setting logger_class).

    With a statsd_host set it is gunicorn's statsd logger, filtered the same way:
    gunicorn picks that one itself only when logger_class is left at its default
    (gunicorn/config.py, Config.logger_class), so naming ours would silence
    --statsd-host (GUNICORN_CMD_ARGS, docker/gunicorn.conf.py)."""

    def __new__(cls, cfg):
        if cls is QuerylessGunicornLogger and cfg.statsd_host is not None:
            return QuerylessStatsdLogger(cfg)
        return super().__new__(cls)


class QuerylessStatsdLogger(_Queryless, GunicornStatsdLogger):
    """gunicorn's statsd logger, filtered as QuerylessGunicornLogger is."""
