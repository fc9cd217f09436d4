#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Parse reStructuredText files with docutils; report every warning and error.

The kernel's documentation is built with Sphinx, whose roles (:doc:,
:ref:, :c:func:, ...) and directives (toctree, kernel-doc, ...) plain
docutils does not know; they are registered here as inert so that only
real markup problems are reported.  Exits 1 when any file has a message
of level WARNING or above.
"""
import sys

from docutils import nodes
from docutils.core import publish_doctree
from docutils.parsers.rst import Directive, directives, roles

SPHINX_ROLES = ('doc', 'ref', 'c:func', 'c:type', 'c:macro', 'c:member',
                'c:data', 'manpage', 'file', 'command', 'envvar', 'option')
SPHINX_DIRECTIVES = ('toctree', 'kernel-doc', 'kernel-feat', 'kernel-abi',
                     'c:function', 'c:type', 'c:macro', 'only', 'note',
                     'highlight', 'code-block')


class Inert(Directive):
    has_content = True
    optional_arguments = 99
    final_argument_whitespace = True
    option_spec = None

    def run(self):
        return []


def main(paths):
    for r in SPHINX_ROLES:
        roles.register_generic_role(r, nodes.literal)
    for d in SPHINX_DIRECTIVES:
        if d not in ('note',):
            directives.register_directive(d, Inert)
    bad = 0
    for path in paths:
        msgs = []
        with open(path, encoding='utf-8') as f:
            text = f.read()
        settings = {'report_level': 5, 'halt_level': 5, 'input_encoding': 'utf-8',
                    'file_insertion_enabled': True}
        doc = publish_doctree(text, source_path=path, settings_overrides=settings)
        # The reporter is silenced (report_level 5); its messages stay in
        # the tree.
        for m in doc.findall(nodes.system_message):
            if m['level'] >= 2:
                msgs.append(m)
        for m in msgs:
            print(m.astext().splitlines()[0])
        bad += len(msgs)
        print(f'{path}: {len(msgs)} warning(s) or error(s)' if msgs else f'{path}: parses cleanly')
    return 1 if bad else 0


if __name__ == '__main__':
    if len(sys.argv) < 2:
        print('usage: rst-check.py FILE.rst...', file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1:]))
