# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Mutation testing of the decision rules: single-point AST mutants, each run against the unit tests.

Usage (from the checkout; ``make mutation`` runs it)::

    python tests/mutation/mutate.py [--jobs N] [--list] [--only TEXT] [--timeout S]

Every mutant changes one place of a target (see :data:`TARGETS`): a comparison swapped or moved
over its boundary, a condition forced true or false, ``and``/``or`` swapped, a ``not`` dropped, a
result or state name turned into PASS/COMPLETED (or PASS into FAIL), a call statement (such as
``results.append(FAIL)``) or an augmented assignment removed, a ``continue``/``break`` dropped, a
number or boolean constant changed, a compared string changed, ``+``/``-`` swapped, ``any``/``all``
swapped. The unit test files that import the target's module are collected once (one pytest
session); each mutant then runs in a forked child, which executes the mutated source into the
already imported module (in its own memory: the checkout is never written) and runs those tests
until the first failure.

Why not ``mutmut``: it runs the tests against a mutated copy it puts first on ``sys.path``, while
these tests import the core as ``ansible_collections.atvm.watcher...``; it mutates nothing outside
functions (module constants such as ``SLACK_SECONDS``) and cannot be limited to one method of a
module (the renderer's result line).

A mutant is *killed* when a test fails (or it times out). A surviving mutant must be listed in
``tests/mutation/equivalent.txt`` with the reason it cannot change what the code decides; the run
fails when a survivor is not listed, when a listed mutant is killed (the entry is stale and must go)
or when fewer than :data:`MIN_SCORE` of all mutants are killed. It prints one line per survivor and
a summary: ``killed/survived/total``.
"""
from __future__ import annotations

import argparse
import ast
import copy
import dataclasses
import os
import re
import signal
import sys
import tempfile
import time
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORE = "plugins/module_utils/atvm_watcher"
EQUIVALENT = os.path.join(HERE, "equivalent.txt")
MIN_SCORE = 0.90

# file -> the top-level names / qualified function names mutated in it (None: the whole module)
TARGETS: Dict[str, Optional[Tuple[str, ...]]] = {
    CORE + "/decision/rules.py": None,
    # the request-post rule: when the sub-run posts do not say how a request ended
    CORE + "/decision/channel.py": None,
    # the renderer's result line: the headline of a post and the emoji of a result
    CORE + "/message/markdown.py": ("headline",),
    CORE + "/message/text.py": ("RESULT_EMOJI", "emoji"),
    CORE + "/message/view.py": ("SubrunView.position",),
}

# test files that import a target but test nothing the mutants can change (run time only)
TEST_SKIP = {
    "test_offline_scale.py",  # decides thousands of hosts to time it; the rules are tested elsewhere
    "test_cypress_log_real.py",  # parses real logs (slow); log_reasons is pinned by test_decide.py
    "test_envfile.py",  # uses render only for reading a template file (not mutated)
    "test_inputs.py",  # the same
}

RESULT_NAMES = ("FAIL", "UNKNOWN", "RUN", "MISSING")
STATE_NAMES = ("CANCELLED", "FAILED", "HUNG", "TERMINATED", "RUNNING", "UNKNOWN")
COMPARE_SWAP = {
    ast.Eq: [ast.NotEq], ast.NotEq: [ast.Eq], ast.Lt: [ast.GtE, ast.LtE], ast.LtE: [ast.Gt, ast.Lt],
    ast.Gt: [ast.LtE, ast.GtE], ast.GtE: [ast.Lt, ast.Gt], ast.In: [ast.NotIn], ast.NotIn: [ast.In],
    ast.Is: [ast.IsNot], ast.IsNot: [ast.Is],
}
SKIP_FIELDS = {"annotation", "returns", "decorator_list", "type_comment"}


# -------------------------------------------------------------------------------------------------
# mutants
# -------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Mutant:
    path: str  # relative to the checkout
    qualname: str
    line: int
    kind: str
    before: str
    after: str
    site: int  # position of the site in the walk of the module
    variant: int  # which of the site's mutations
    key: str = ""


Mutation = Tuple[str, str, Callable[[ast.AST], ast.AST]]  # kind, replacement text, transform of a copy


def _src(node: ast.AST, limit: int = 70) -> str:
    text = re.sub(r"\s+", " ", ast.unparse(node))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _const(value: object) -> ast.Constant:
    return ast.Constant(value=value)


def _is_docstring(node: ast.AST, parent: Optional[ast.AST]) -> bool:
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
            and parent is not None and getattr(parent, "body", [None])[0] is node)


def _mutations(node: ast.AST, parent: Optional[ast.AST], module_level: bool) -> List[Mutation]:
    """The single-point mutations of ``node`` itself (its children are sites of their own)."""
    out: List[Mutation] = []
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            for new in COMPARE_SWAP.get(type(op), []):
                def swap(n, i=i, new=new):
                    n.ops[i] = new()
                    return n
                out.append(("compare", "", swap))
    elif isinstance(node, ast.BoolOp):
        def flip(n):
            n.op = ast.Or() if isinstance(n.op, ast.And) else ast.And()
            return n
        out.append(("boolop", "", flip))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        out.append(("drop-not", "", lambda n: n.operand))
    elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
        targets = []
        if node.id in RESULT_NAMES:
            targets.append("PASS")
        if node.id in STATE_NAMES:
            targets.append("COMPLETED")
        if node.id == "PASS":
            targets.append("FAIL")
        if node.id == "COMPLETED":
            targets.append("FAILED")
        for target in targets:
            out.append(("name", "", lambda n, t=target: ast.Name(id=t, ctx=ast.Load())))
    elif isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool):
            out.append(("constant", "", lambda n: _const(not n.value)))
        elif isinstance(value, (int, float)):
            out.append(("constant", "", lambda n: _const(n.value + 1)))
        elif isinstance(value, str) and (isinstance(parent, ast.Compare) or (module_level and isinstance(parent, ast.Tuple))):
            out.append(("constant", "", lambda n: _const("XX" + n.value + "XX")))
    elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        def arith(n):
            n.op = ast.Sub() if isinstance(n.op, ast.Add) else ast.Add()
            return n
        out.append(("arith", "", arith))
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("any", "all"):
        def anyall(n):
            n.func = ast.Name(id="all" if n.func.id == "any" else "any", ctx=ast.Load())
            return n
        out.append(("any-all", "", anyall))
    elif isinstance(node, (ast.Expr, ast.AugAssign, ast.Continue, ast.Break)) and not _is_docstring(node, parent):
        if not isinstance(node, ast.Expr) or isinstance(node.value, ast.Call):
            out.append(("remove", "pass", lambda n: ast.Pass()))
    # conditions forced true / false
    if isinstance(node, (ast.If, ast.IfExp, ast.While)) and not isinstance(node.test, ast.Constant):
        for value in (True, False):
            def force(n, value=value):
                n.test = _const(value)
                return n
            out.append(("force-{0}".format(str(value).lower()), "", force))
    if isinstance(node, ast.comprehension):
        for i, _cond in enumerate(node.ifs):
            for value in (True, False):
                def force_if(n, i=i, value=value):
                    n.ifs[i] = _const(value)
                    return n
                out.append(("force-{0}".format(str(value).lower()), "", force_if))
    return out


def _walk(tree: ast.Module, scope: Optional[Sequence[str]]) -> Iterator[Tuple[ast.AST, Optional[ast.AST], str, bool]]:
    """(node, parent, qualname, module_level) of every node that may be mutated, in a fixed order."""

    def visit(node: ast.AST, parent: Optional[ast.AST], qual: str, active: bool, module_level: bool):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            return
        if active:
            yield node, parent, qual, module_level
        for field, value in ast.iter_fields(node):
            if field in SKIP_FIELDS:
                continue
            children = value if isinstance(value, list) else [value]
            for child in children:
                if not isinstance(child, ast.AST):
                    continue
                if _is_docstring(child, node):
                    continue
                child_qual, child_active, child_module = qual, active, module_level
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    child_qual = child.name if not qual else qual + "." + child.name
                    child_active = scope is None or child_qual in scope or active
                    child_module = False
                elif node is tree:
                    names = [t.id for t in getattr(child, "targets", [getattr(child, "target", None)]) if isinstance(t, ast.Name)]
                    child_qual = names[0] if names else ""
                    child_active = scope is None or child_qual in scope
                yield from visit(child, node, child_qual, child_active, child_module)

    yield from visit(tree, None, "", scope is None, True)


def enumerate_mutants(path: str, scope: Optional[Sequence[str]], source: str) -> List[Mutant]:
    tree = ast.parse(source)
    mutants: List[Mutant] = []
    seen: Dict[str, int] = {}
    for site, (node, parent, qual, module_level) in enumerate(_walk(tree, scope)):
        for variant, (kind, _text, transform) in enumerate(_mutations(node, parent, module_level)):
            new = transform(copy.deepcopy(node))
            before, after = _src(node), _src(new)
            if kind.startswith("force-") and not isinstance(node, ast.comprehension):
                before, after = _src(node.test), _src(new.test)  # a forced condition: show the condition only
            if isinstance(node, ast.comprehension):
                before, after = "if " + " if ".join(_src(c) for c in node.ifs), "if " + " if ".join(_src(c) for c in new.ifs)
            base = "{0}:{1}: {2} -> {3} [{4}]".format(os.path.relpath(path, CORE), qual or "<module>", before, after, kind)
            seen[base] = seen.get(base, 0) + 1
            line = getattr(node, "lineno", 0) or getattr(node.target, "lineno", 0) if isinstance(node, ast.comprehension) \
                else getattr(node, "lineno", 0)
            mutants.append(Mutant(path=path, qualname=qual or "<module>", line=line, kind=kind,
                                  before=before, after=after, site=site, variant=variant,
                                  key="{0} #{1}".format(base, seen[base])))
    return mutants


def mutated_source(source: str, scope: Optional[Sequence[str]], mutant: Mutant) -> str:
    tree = ast.parse(source)
    for site, (node, parent, _qual, module_level) in enumerate(_walk(tree, scope)):
        if site != mutant.site:
            continue
        _kind, _text, transform = _mutations(node, parent, module_level)[mutant.variant]
        new = transform(node)
        if new is not node:
            _replace(parent, node, new)
        return ast.unparse(ast.fix_missing_locations(tree)) + "\n"
    raise RuntimeError("mutant site {0} not found in {1}".format(mutant.site, mutant.path))


def _replace(parent: ast.AST, old: ast.AST, new: ast.AST) -> None:
    for field, value in ast.iter_fields(parent):
        if isinstance(value, list):
            for i, item in enumerate(value):
                if item is old:
                    value[i] = new
                    return
        elif value is old:
            setattr(parent, field, new)
            return
    raise RuntimeError("node not found in its parent")


# -------------------------------------------------------------------------------------------------
# running the tests against a mutant
# -------------------------------------------------------------------------------------------------


def test_files(module: str) -> List[str]:
    """The unit test files that import ``module`` (its own test file first)."""
    pattern = re.compile(r"^\s*(from|import)\s.*\b{0}\b".format(re.escape(module)), re.M)
    found = []
    for folder, _dirs, files in os.walk(os.path.join(ROOT, "tests", "unit")):
        for name in sorted(files):
            if name.startswith("test_") and name.endswith(".py") and name not in TEST_SKIP:
                path = os.path.join(folder, name)
                with open(path, encoding="utf-8") as handle:
                    if pattern.search(handle.read()):
                        found.append(os.path.relpath(path, ROOT))
    own = "test_{0}.py".format(module)
    return sorted(found, key=lambda p: (os.path.basename(p) != own, p))


def module_name(path: str) -> str:
    return "ansible_collections.atvm.watcher." + os.path.splitext(path)[0].replace("/", ".")


def apply_in_memory(path: str, source: str) -> None:
    """Run ``source`` as the module of ``path`` (already imported), and make every module that took
    a name from it (``from .decide import decide``) see the new object."""
    module = sys.modules[module_name(path)]
    old = dict(vars(module))
    exec(compile(source, module.__file__, "exec"), module.__dict__)  # noqa: S102 - the mutant under test
    changed = {id(value): module.__dict__[name] for name, value in old.items()
               if name in module.__dict__ and module.__dict__[name] is not value}
    for other in list(sys.modules.values()):
        if other is None or other is module:
            continue
        for name, value in list(vars(other).items()):
            if id(value) in changed:
                setattr(other, name, changed[id(value)])


class Driver:
    """A pytest plugin: collect once, then run the collected tests in a forked child per mutant.

    The child changes the already imported module in its own memory only: the checkout is never
    written, and the parent stays unmutated for the next mutant.
    """

    def __init__(self, mutants: List[Mutant], sources: Dict[str, str], scopes: Dict[str, Optional[Sequence[str]]],
                 tests: Dict[str, List[str]], jobs: int, timeout: float) -> None:
        self.mutants, self.sources, self.scopes, self.tests = mutants, sources, scopes, tests
        self.jobs, self.timeout = jobs, timeout
        self.outcome: Dict[str, str] = {}
        self.baseline_failed: Optional[str] = None

    def _items(self, session, path: str) -> list:
        # in the order of self.tests[path]: the module's own test file first (-x stops early)
        order = [os.path.basename(t) for t in self.tests[path]]
        items = [item for item in session.items if os.path.basename(str(item.path)) in order]
        return sorted(items, key=lambda item: order.index(os.path.basename(str(item.path))))

    def _fork(self, items: list, path: str, source: str, baseline: bool = False) -> int:
        """Run ``items`` in a child with ``source`` as the module of ``path``. The baseline (the
        unmutated source, put in place the same way) says which test fails, or what went wrong."""
        pid = os.fork()
        if pid:
            return pid
        code = 3
        report_fd = os.dup(2)
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            apply_in_memory(path, source)
            from _pytest.runner import runtestprotocol
            code = 0 if items else 4
            for i, item in enumerate(items):
                reports = runtestprotocol(item, nextitem=items[i + 1] if i + 1 < len(items) else None, log=False)
                if any(r.failed for r in reports):
                    if baseline:
                        failed = [r for r in reports if r.failed][0]
                        os.write(report_fd, "mutation: {0} fails without any mutant:\n{1}\n".format(
                            item.nodeid, str(failed.longrepr)[-3000:]).encode())
                    code = 1
                    break
        except BaseException as exc:  # noqa: B036 - whatever happens in the child is a failed run
            if baseline:
                os.write(report_fd, "mutation: {0} put in place unmutated: {1!r}\n".format(path, exc).encode())
            code = 2
        os._exit(code)

    def _wait(self, running: Dict[int, Tuple[Optional[Mutant], float]],
              timeout: Optional[float] = None) -> Tuple[Optional[Mutant], str]:
        timeout = self.timeout if timeout is None else timeout
        while True:
            for pid, (mutant, started) in list(running.items()):
                done, status = os.waitpid(pid, os.WNOHANG)
                if done == 0:
                    if time.monotonic() - started <= timeout:
                        continue
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    del running[pid]
                    return mutant, "timeout"
                del running[pid]
                return mutant, "survived" if os.waitstatus_to_exitcode(status) == 0 else "killed"
            time.sleep(0.005)

    def pytest_runtestloop(self, session):
        if session.testsfailed:  # collection errors
            self.baseline_failed = "the collection"
            return True
        # the unmutated code must pass, or every mutant would look killed
        slowest = 0.0
        for path in self.sources:
            started = time.monotonic()
            pid = self._fork(self._items(session, path), path, self.sources[path], baseline=True)
            if self._wait({pid: (None, started)}, timeout=max(600.0, self.timeout))[1] != "survived":
                self.baseline_failed = path
                return True
            slowest = max(slowest, time.monotonic() - started)
        # a mutant may take longer than the unmutated code on a busy machine, not ten times as long
        self.timeout = max(self.timeout, 10 * slowest)
        running: Dict[int, Tuple[Optional[Mutant], float]] = {}
        queue = list(self.mutants)
        done = 0
        while queue or running:
            while queue and len(running) < self.jobs:
                mutant = queue.pop(0)
                source = mutated_source(self.sources[mutant.path], self.scopes[mutant.path], mutant)
                pid = self._fork(self._items(session, mutant.path), mutant.path, source)
                running[pid] = (mutant, time.monotonic())
            mutant, result = self._wait(running)
            self.outcome[mutant.key] = result
            done += 1
            if done % 100 == 0:
                print("mutation: {0}/{1} mutants run".format(done, len(self.mutants)), flush=True)
        return True


def run_all(mutants: List[Mutant], sources: Dict[str, str], scopes: Dict[str, Optional[Sequence[str]]],
            tests: Dict[str, List[str]], jobs: int, timeout: float) -> Dict[str, str]:
    import pytest

    driver = Driver(mutants, sources, scopes, tests, jobs, timeout)
    files = sorted({f for fs in tests.values() for f in fs})
    with tempfile.TemporaryDirectory(prefix="atvm-mutation-") as tmp:
        # this checkout, and no other, is the collection the tests import
        os.makedirs(os.path.join(tmp, "ansible_collections", "atvm"))
        os.symlink(ROOT, os.path.join(tmp, "ansible_collections", "atvm", "watcher"))
        sys.path[:] = [tmp] + [p for p in sys.path if not os.path.isdir(os.path.join(p or ".", "ansible_collections", "atvm", "watcher"))]
        os.chdir(ROOT)
        pytest.main(["-q", "-p", "no:cacheprovider", "--rootdir", ROOT, "--no-header", "-o", "console_output_style=classic"]
                    + files, plugins=[driver])
    if driver.baseline_failed:
        raise SystemExit("mutation: the unit tests of {0} fail without any mutant: fix them first".format(driver.baseline_failed))
    missing = [m.key for m in mutants if m.key not in driver.outcome]
    if missing:
        raise SystemExit("mutation: {0} mutants were not run (collection failed?)".format(len(missing)))
    return driver.outcome


# -------------------------------------------------------------------------------------------------
# the list of equivalent mutants
# -------------------------------------------------------------------------------------------------


def read_equivalent(path: str) -> Dict[str, str]:
    """``mutant: KEY`` / ``reason: TEXT`` pairs; a mutant without a reason is an error."""
    entries: Dict[str, str] = {}
    key = None
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            if line.startswith("mutant: "):
                if key is not None:
                    raise SystemExit("{0}:{1}: the mutant before has no reason".format(path, number))
                key = line[len("mutant: "):].strip()
            elif line.startswith("reason: ") and key is not None and line[len("reason: "):].strip():
                entries[key] = line[len("reason: "):].strip()
                key = None
            else:
                raise SystemExit("{0}:{1}: expected 'mutant: KEY' followed by 'reason: TEXT'".format(path, number))
    if key is not None:
        raise SystemExit("{0}: the last mutant has no reason".format(path))
    return entries


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("MUTATION_JOBS", "2")))
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds one mutant's tests may take")
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    parser.add_argument("--only", default="", help="run only the mutants whose key contains this text")
    parser.add_argument("--equivalent", default=EQUIVALENT)
    args = parser.parse_args(argv)

    sources = {}
    mutants: List[Mutant] = []
    tests: Dict[str, List[str]] = {}
    for path, scope in TARGETS.items():
        with open(os.path.join(ROOT, path), encoding="utf-8") as handle:
            sources[path] = handle.read()
        mutants.extend(enumerate_mutants(path, scope, sources[path]))
        tests[path] = test_files(os.path.splitext(os.path.basename(path))[0])
    if args.only:
        mutants = [m for m in mutants if args.only in m.key]
    if args.list:
        for mutant in mutants:
            print("{0}:{1}: {2}".format(mutant.path, mutant.line, mutant.key))
        print("{0} mutants".format(len(mutants)))
        return 0
    equivalent = read_equivalent(args.equivalent)
    sys.dont_write_bytecode = True
    started = time.monotonic()
    outcome = run_all(mutants, sources, TARGETS, tests, max(1, args.jobs), args.timeout)
    elapsed = time.monotonic() - started

    survivors = [m for m in mutants if outcome[m.key] == "survived"]
    unexplained = [m for m in survivors if m.key not in equivalent]
    stale = [m for m in mutants if m.key in equivalent and outcome[m.key] != "survived"]
    for mutant in survivors:
        print("{0} {1}:{2}: {3}".format("equivalent" if mutant.key in equivalent else "SURVIVED", mutant.path,
                                        mutant.line, mutant.key))
    for mutant in stale:
        print("KILLED but listed as equivalent (remove it from {0}): {1}".format(
            os.path.relpath(args.equivalent, ROOT), mutant.key))
    if not args.only:
        generated = {m.key for m in mutants}
        for key in sorted(k for k in equivalent if k not in generated):
            print("note: listed as equivalent but no longer a mutant (the code changed): {0}".format(key))
    killed = len(mutants) - len(survivors)
    timeouts = sum(1 for m in mutants if outcome[m.key] == "timeout")
    for path in TARGETS:
        mine = [m for m in mutants if m.path == path]
        print("mutation: {0}: {1} killed, {2} survived, {3} mutants".format(
            path, sum(1 for m in mine if outcome[m.key] != "survived"), sum(1 for m in mine if outcome[m.key] == "survived"),
            len(mine)))
    score = killed / len(mutants) if mutants else 1.0
    print("mutation: {0} killed ({1} by timeout), {2} survived ({3} listed as equivalent), {4} mutants: {5:.1%} killed"
          " in {6:.0f} s".format(killed, timeouts, len(survivors), len(survivors) - len(unexplained), len(mutants),
                                 score, elapsed))
    failed = False
    if unexplained:
        print("mutation: {0} surviving mutant(s) not listed in {1}: kill them with a test, or list them with the"
              " reason they cannot change a result".format(len(unexplained), os.path.relpath(args.equivalent, ROOT)))
        failed = True
    if stale:
        failed = True
    if score < MIN_SCORE and not args.only:
        print("mutation: fewer than {0:.0%} of the mutants killed".format(MIN_SCORE))
        failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
