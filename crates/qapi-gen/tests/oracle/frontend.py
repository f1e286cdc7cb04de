#!/usr/bin/env python3
"""Run one QEMU release's own QAPI front end over many schema files.

Usage:
    frontend.py RELEASE_DIR [SCHEMA.json | DIR] ...

RELEASE_DIR is a QEMU tree holding scripts/qapi/ and
tests/qapi-schema/test-qapi.py (e.g. ../shared/corpus/qemu-7.2.0).  The
schemas to run are the files given, the *.json files of the directories
given (sorted, not recursive), or, with no arguments after RELEASE_DIR,
one path per line on stdin.

test-qapi.py is loaded once.  For each schema, its test_frontend() runs
with the schema's directory as the working directory and the bare file
name as the argument, just as the test suite's harness sees it once it
has stripped the "DIR/" prefix.  One JSON object per schema goes to
stdout:

    {"file": PATH, "out": STDOUT, "err": ERROR_TEXT, "crash": BOOL}

"err" is str(QAPIError) + "\\n" (what test-qapi.py reports), or "" when
the schema is valid.  Any other exception is a crash of the front end:
"crash" is true and "err" holds the exception's type and message.
"""

import importlib.util
import io
import json
import os
import sys


def load(release_dir):
    """Imports RELEASE_DIR's test-qapi.py and its qapi package."""
    scripts = os.path.join(release_dir, 'scripts')
    sys.path.insert(0, scripts)
    harness = os.path.join(release_dir, 'tests', 'qapi-schema', 'test-qapi.py')
    spec = importlib.util.spec_from_file_location('qemu_test_qapi', harness)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # The harness's own import, so we catch the very class it raises.
    from qapi.error import QAPIError  # pylint: disable=import-outside-toplevel
    return module, QAPIError


def run_one(module, qapi_error, path):
    """Runs test_frontend on PATH; returns the record for it."""
    directory, name = os.path.split(os.path.abspath(path))
    here = os.getcwd()
    captured = io.StringIO()
    err = ''
    crash = False
    try:
        os.chdir(directory)
        sys.stdout = captured
        module.test_frontend(name)
    except qapi_error as e:
        err = str(e) + '\n'
    except RecursionError as e:
        crash = True
        err = 'RecursionError: %s\n' % e
    except Exception as e:  # pylint: disable=broad-except
        crash = True
        err = '%s: %s\n' % (type(e).__name__, e)
    finally:
        sys.stdout = sys.__stdout__
        os.chdir(here)
    return {'file': path, 'out': captured.getvalue(), 'err': err,
            'crash': crash}


def schema_paths(args):
    """The schema files ARGS name (see the module's docstring)."""
    if not args:
        for line in sys.stdin:
            line = line.rstrip('\n')
            if line:
                yield line
        return
    for arg in args:
        if os.path.isdir(arg):
            for entry in sorted(os.listdir(arg)):
                if entry.endswith('.json'):
                    yield os.path.join(arg, entry)
        else:
            yield arg


def main(argv):
    if len(argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    module, qapi_error = load(os.path.abspath(argv[1]))
    out = sys.__stdout__
    for path in schema_paths(argv[2:]):
        # Each call builds its own QAPISchema; test-qapi.py and the qapi
        # package keep no state between calls that the dump depends on.
        record = run_one(module, qapi_error, path)
        out.write(json.dumps(record) + '\n')
        out.flush()
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
