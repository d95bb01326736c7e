"""moto_server, started by the local cloud, less three costs of moto's own.

Profiled under the saga benchmark (py-spy), moto spent its CPU here rather
than on the requests themselves; each patch keeps moto's behaviour and only
stops it redoing the same work:

- EventBridge builds a new JSONPath parser (a yacc table) for each of its
  default input paths, for every target of every event put (28 % of moto's
  CPU): parsed expressions are immutable, so each path is parsed once.
- Every request lists moto's package directory (listdir + isdir of some 150
  entries) twice, under the dispatcher's global lock (10 %): the list is
  read once; it cannot change while the server runs.
- Werkzeug logs every request through a locked stream handler (8 %): the
  local cloud's proxy counts requests by action instead
  (`GET /emulators/aws/requests`); warnings and errors are still logged.

A patch whose target is missing (another moto version) is skipped with a
warning: moto then runs as released, only slower.
"""

import functools
import logging
import sys


def patch():
    try:
        import jsonpath_ng.ext
        import jsonpath_ng.ext.parser

        parse = functools.lru_cache(maxsize=1024)(jsonpath_ng.ext.parser.parse)
        jsonpath_ng.ext.parse = parse
        jsonpath_ng.ext.parser.parse = parse
    except (ImportError, AttributeError) as e:
        print(f"moto launcher: JSONPath parses not cached: {e}", file=sys.stderr)
    try:
        from moto import backends

        modules = tuple(backends.list_of_moto_modules())
        backends.list_of_moto_modules = lambda: modules
    except (ImportError, AttributeError) as e:
        print(f"moto launcher: module list not cached: {e}", file=sys.stderr)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


if __name__ == "__main__":
    patch()
    from moto.server import main

    sys.exit(main(sys.argv[1:]))
