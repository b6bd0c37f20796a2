"""The architecture rules of docs/architecture.md, checked by reading the source (ast only).

Nothing here imports nnlite: every check parses the files, so it is fast and also catches
imports that only run inside functions. The floors and the list of heavy optional
dependencies that may be imported lazily are read from docs/architecture.md, which is their
one definition; the test only enforces them.
"""
import ast
import io
import os
import re
import sys
import tokenize

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "nnlite")
DOC = os.path.join(ROOT, "docs", "architecture.md")
DOC_NAME = "docs/architecture.md"

SATELLITES = ("apps", "baselines", "benchmarks", "experiments")
MAX_MODULE_LINES = 300          # the guideline is ~250; past 300 a module is doing two jobs
MAX_BATCH_PATH_FILES = 12
CORE = ("errors", "validation", "ops", "layers", "losses", "optimizers", "sequential",
        "training", "safeguards", "summary")
# Lines of code (no blanks, comments or docstrings) of CORE: 1,562 when the budget was set,
# plus ~15%. Room for a layer or a kernel, not for a second training loop or a framework
# inside the engine. Raise it only with a reason a reader of the core would accept.
# +300: the fused conv -> BN -> ReLU -> pool passes and their dispatcher (ops/fused.py,
# layers/fusion.py), the direct first-layer loops (ops/direct.py), per-sample BN statistics.
# +50: flushing subnormal floats to zero as TensorFlow's CPU threads do (ops/fpenv.py): without
# it a CNN trained with L2 + BatchNorm + Adam slowed from 45 to 400 s per epoch.
CORE_BUDGET = 2_150


# -- reading docs/architecture.md ---------------------------------------------------------------
def _doc_text():
    with open(DOC, encoding="utf-8") as fh:
        return fh.read()


def _fenced_block(name):
    match = re.search(rf"^```{re.escape(name)}[ \t]*\n(.*?)^```", _doc_text(), re.M | re.S)
    assert match, f"{DOC_NAME} has no ```{name} block; it defines what this test enforces"
    return [line.split("#")[0].strip() for line in match.group(1).splitlines()
            if line.split("#")[0].strip()]


def _floors():
    """-> {entry: floor}, entries like 'ops', 'layers', 'cli', '__init__' (the package)."""
    floors = {}
    for line in _fenced_block("floors"):
        number, *entries = line.split()
        assert number.isdigit() and entries, \
            f"{DOC_NAME} floors line {line!r}: write `<floor number> <module> <module> ...`"
        for entry in entries:
            assert entry not in floors, f"{DOC_NAME}: {entry} is on two floors; keep one"
            floors[entry] = int(number)
    return floors


LAZY_IMPORTS = tuple(name for line in _fenced_block("lazy-imports") for name in line.split())


# -- reading nnlite/ ----------------------------------------------------------------------------
def _modules():
    """-> {dotted name: path} for every .py file under nnlite/ ('nnlite.layers' = its __init__)."""
    found = {}
    for folder, dirs, files in os.walk(PACKAGE):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for file in sorted(files):
            if file.endswith(".py"):
                parts = os.path.relpath(os.path.join(folder, file), ROOT)[:-3].split(os.sep)
                if parts[-1] == "__init__":
                    parts = parts[:-1]
                found[".".join(parts)] = os.path.join(folder, file)
    return found


MODULES = _modules()


def _rel(path):
    return os.path.relpath(path, ROOT).replace(os.sep, "/")


def _parse(path):
    with open(path, encoding="utf-8") as fh:
        return ast.parse(fh.read(), path)


def _is_type_checking(test):
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING"
            or isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree):
    """-> [(node, at_module_level)] for every import statement, TYPE_CHECKING blocks skipped
    (they never run). Module level = not inside a def, lambda or class body."""
    out = []

    def visit(node, top):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for sub in child.orelse:
                    visit_stmt(sub, top)
                continue
            visit_stmt(child, top)

    def visit_stmt(child, top):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            out.append((child, top))
        inner = top and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef,
                                               ast.ClassDef, ast.Lambda))
        visit(child, inner)

    visit(tree, True)
    return out


def _resolve(module, node):
    """The absolute module an ImportFrom's ``from X`` names, resolving relative imports."""
    if not node.level:
        return node.module
    is_package = MODULES[module].endswith("__init__.py")
    base = module.split(".") if is_package else module.split(".")[:-1]
    if node.level - 1 > len(base) - 1:
        return None                                     # above nnlite: reported as unresolved
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _targets(module, node):
    """-> the absolute names an import statement loads (modules where they are modules)."""
    if isinstance(node, ast.Import):             # `import a.b.c` runs a, a.b and a.b.c
        out = []
        for alias in node.names:
            parts = alias.name.split(".")
            for k in range(1, len(parts) + 1):
                name = ".".join(parts[:k])
                ancestor = module == name or module.startswith(name + ".")
                if not ancestor or (k == len(parts) and name != module):
                    out.append(name)
        return out
    source = _resolve(module, node)
    if source is None:
        return ["." * node.level + (node.module or "")]
    out = []
    ancestor = module == source or module.startswith(source + ".")
    if not ancestor:
        out.append(source)                              # its __init__ runs
    for alias in node.names:
        sub = f"{source}.{alias.name}"
        if sub in MODULES:
            out.append(sub)
        elif ancestor:
            out.append(source)                          # a name from an ancestor's __init__
    return list(dict.fromkeys(out))


def _edges():
    """-> [(module, imported nnlite module, line, at_module_level)], plus unresolved ones."""
    edges, unresolved = [], []
    for module, path in MODULES.items():
        for node, top in _imports(_parse(path)):
            for target in _targets(module, node):
                if target == "nnlite" or target.startswith(("nnlite.", ".")):
                    if target in MODULES:
                        edges.append((module, target, node.lineno, top))
                    else:
                        unresolved.append((module, target, node.lineno))
    return edges, unresolved


def _where(module, line):
    return f"{_rel(MODULES[module])}:{line}"


def _dotted(module):
    return module if module != "nnlite" else "nnlite (the package __init__)"


def _fail_if(problems, message):
    """Fail with ``message`` alone (no traceback of this file): it says what to change."""
    if problems:
        pytest.fail(message, pytrace=False)


# -- the rules ----------------------------------------------------------------------------------
def test_nnlite_never_imports_the_satellites():
    """apps/, baselines/, benchmarks/, experiments/ use nnlite; nnlite never uses them."""
    found = []
    for module, path in MODULES.items():
        tree = _parse(path)
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            elif (isinstance(node, ast.Call) and node.args
                  and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
                  and (isinstance(node.func, ast.Name) and node.func.id in ("__import__",
                                                                             "import_module")
                       or isinstance(node.func, ast.Attribute)
                       and node.func.attr == "import_module")):
                names = [node.args[0].value]
            for name in names:
                if name.split(".")[0] in SATELLITES:
                    found.append(f"{_rel(path)}:{node.lineno} imports {name}")
    _fail_if(found, (
        "nnlite/ must not import the satellite folders (they are not installed with nnlite and "
        "they import nnlite). Move the code the import needs into nnlite at the right floor, or "
        "move the feature into the satellite and run it with `python -m <satellite>`:\n  "
        + "\n  ".join(found)))


def test_nnlite_imports_resolve():
    _, unresolved = _edges()
    _fail_if(unresolved, (
        "these imports name nnlite modules that do not exist (renamed or removed?); point "
        "them at the module's new name:\n  "
        + "\n  ".join(f"{_where(m, line)} imports {t}" + (" (a relative import reaching above "
                                                          "nnlite/)" if t.startswith(".") else "")
                       for m, t, line in unresolved)))


def _cycles(edges):
    """Strongly connected components with more than one module (or a self-import)."""
    graph = {m: set() for m in MODULES}
    for a, b, _, _ in edges:
        graph[a].add(b)
    index, low, stack, on_stack, out, counter = {}, {}, [], set(), [], [0]

    def connect(v):                        # Tarjan; recursion depth <= number of modules
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph[v]:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return out


def test_no_import_cycles():
    """Counting imports inside functions too: a cycle hidden in a function is still a cycle."""
    edges, _ = _edges()
    problems = []
    for component in _cycles(edges):
        members = set(component)
        links = [f"{_where(a, line)}  {a} -> {b}" + ("" if top else "   (inside a function)")
                 for a, b, line, top in edges if a in members and b in members]
        problems.append("cycle among " + ", ".join(component) + ":\n    " + "\n    ".join(links))
    _fail_if(problems, (
        "import cycles in nnlite/. Break each by moving the shared code down to a lower floor "
        "(see docs/architecture.md), or by passing the object in (an argument, a callback) "
        "instead of importing the module that makes it:\n  " + "\n  ".join(problems)))


def _top_name(name):
    return name.split(".")[0]


def _function_level_imports():
    """-> [(path, line, module name or None, is_nnlite)] for imports not at module level."""
    out = []
    for module, path in MODULES.items():
        for node, top in _imports(_parse(path)):
            if top:
                continue
            if isinstance(node, ast.ImportFrom) and node.level:
                out.append((path, node.lineno, "." * node.level + (node.module or ""), True))
                continue
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module])
            for name in names:
                out.append((path, node.lineno, name, _top_name(name) == "nnlite"))
    return out


def test_no_function_level_imports_of_nnlite_or_non_lazy_third_party():
    problems = []
    for path, line, name, own in _function_level_imports():
        top = _top_name(name)
        if own:
            problems.append(f"{_rel(path)}:{line} imports {name} inside a function: nnlite's own "
                            "modules are imported at the top of the module. If that makes a "
                            "cycle or goes up the floors, the code is on the wrong floor: move it "
                            "(see docs/architecture.md)")
        elif top in SATELLITES or top in sys.stdlib_module_names:
            continue        # satellites: their own test; the standard library: the next test
        elif top not in LAZY_IMPORTS:
            problems.append(f"{_rel(path)}:{line} imports {name} inside a function: import it at "
                            f"the top of the module, or, if {top} is a heavy optional dependency, "
                            f"add it to the ```lazy-imports block of {DOC_NAME}")
    _fail_if(problems, ("function-level imports outside the lazy list "
                          f"{LAZY_IMPORTS}:\n  " + "\n  ".join(problems)))


def test_no_function_level_imports_of_the_standard_library():
    """The standard library costs nothing to import: nothing hides it inside a function."""
    problems = [f"{_rel(path)}:{line} imports {name} inside a function: move it to the top of "
                "the module" for path, line, name, own in _function_level_imports()
                if not own and _top_name(name) in sys.stdlib_module_names]
    _fail_if(problems, "\n  ".join(["function-level standard-library imports:"] + problems))


def _entry(module, floors):
    """The floors-block entry a module belongs to (longest match), or None."""
    rel = module[len("nnlite."):] if module != "nnlite" else "__init__"
    parts = rel.split(".")
    for k in range(len(parts), 0, -1):
        if ".".join(parts[:k]) in floors:
            return ".".join(parts[:k])
    return None


def test_every_module_has_a_floor():
    floors = _floors()
    missing = [f"{_rel(path)} (as `{module[len('nnlite.'):] if module != 'nnlite' else '__init__'}`"
               f" or its package)" for module, path in MODULES.items()
               if _entry(module, floors) is None]
    _fail_if(missing, (
        f"modules without a floor: add each to a line of the ```floors block in {DOC_NAME} "
        "(a floor above everything it imports and below everything that imports it) and say "
        "in the doc what it holds:\n  " + "\n  ".join(missing)))


def test_floors_block_names_existing_modules():
    floors = _floors()
    stale = []
    for entry in floors:
        name = "nnlite" if entry == "__init__" else f"nnlite.{entry}"
        if name not in MODULES:
            stale.append(entry)
    _fail_if(stale, (f"the ```floors block of {DOC_NAME} names modules that do not exist; "
                       "remove them or use their new names: " + ", ".join(stale)))


def _same_package(ea, eb):
    """Entries in one package directory: siblings (``cli``, ``commands``) or one inside the
    other (``inspect``, ``inspect.trace``)."""
    return (ea.rpartition(".")[0] == eb.rpartition(".")[0]
            or ea.startswith(eb + ".") or eb.startswith(ea + "."))


def test_imports_go_down_the_floors():
    """A module imports only from lower floors. On the same floor, only modules of one package
    directory (e.g. nnlite/cli.py and nnlite/commands/, both in nnlite/) may import each other;
    cycles among them are caught by test_no_import_cycles."""
    floors = _floors()
    edges, _ = _edges()
    problems = []
    for a, b, line, _ in edges:
        ea, eb = _entry(a, floors), _entry(b, floors)
        if ea is None or eb is None or ea == eb:
            continue                            # no floor: test_every_module_has_a_floor
        fa, fb = floors[ea], floors[eb]
        if fb > fa:
            problems.append(
                f"{_where(a, line)}: {a} (floor {fa}, {ea}) imports {_dotted(b)} (floor {fb}, "
                f"{eb}), which is ABOVE it. Move what it needs down to floor {fa} or below, or "
                f"have the caller pass it in; if {ea} really belongs above {eb}, move it in the "
                f"```floors block of {DOC_NAME}")
        elif fb == fa and not _same_package(ea, eb):
            problems.append(
                f"{_where(a, line)}: {a} ({ea}) imports {_dotted(b)} ({eb}) sideways: both are "
                f"on floor {fa} but in different packages. Put one of them on a lower floor in "
                f"the ```floors block of {DOC_NAME}, or move the shared code down")
    _fail_if(problems, "imports against the floors:\n  " + "\n  ".join(problems))


def test_modules_are_small():
    too_long = []
    for module, path in MODULES.items():
        with open(path, encoding="utf-8") as fh:
            n = len(fh.read().splitlines())
        if n > MAX_MODULE_LINES:
            too_long.append(f"{_rel(path)}: {n} lines")
    _fail_if(too_long, (
        f"modules over {MAX_MODULE_LINES} lines (the guideline is ~250): split each along a "
        "seam the reader would name (one job per module), and give the new module a floor:\n  "
        + "\n  ".join(too_long)))


def _code_lines(path):
    """Lines holding code: not blank, not only a comment, not part of a docstring."""
    with open(path, encoding="utf-8") as fh:
        source = fh.read()
    docstring_lines = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                    and isinstance(body[0].value.value, str)):
                docstring_lines.update(range(body[0].lineno, body[0].end_lineno + 1))
    skip = (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENDMARKER, tokenize.ENCODING)
    lines = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type not in skip:
            lines.update(range(tok.start[0], tok.end[0] + 1))
    return len(lines - docstring_lines)


def test_core_stays_small():
    per_module = {}
    for module, path in MODULES.items():
        if module.split(".")[1:2] and module.split(".")[1] in CORE:
            per_module[_rel(path)] = _code_lines(path)
    total = sum(per_module.values())
    biggest = sorted(per_module.items(), key=lambda kv: -kv[1])[:5]
    _fail_if(total > CORE_BUDGET, (
        f"the engine core ({', '.join(CORE)}) has {total} lines of code, over its budget of "
        f"{CORE_BUDGET}. Move what is not the engine (reporting, plotting, file formats, "
        "commands) to a higher floor, or simplify; raise CORE_BUDGET in this file only with a "
        "reason. Largest: " + ", ".join(f"{p} {n}" for p, n in biggest)))


# -- the batch path in docs/architecture.md -----------------------------------------------------
def _batch_path_items():
    text = _doc_text()
    match = re.search(r"^## The path of one training batch.*?$(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"{DOC_NAME} has no section '## The path of one training batch'"
    items, current = [], None
    for line in match.group(1).splitlines():
        if re.match(r"^\s*(\d+\.|[-*])\s", line):
            current = [line]
            items.append(current)
        elif current is not None and line.startswith((" ", "\t")) and line.strip():
            current.append(line)
        elif not line.strip() or current is not None:
            current = None if not line.strip() else current
    return [" ".join(part.strip() for part in item) for item in items]


def _defined(tree, name):
    """Is ``name`` (``f`` or ``Class.method``) defined at the top of the module?"""
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    if "." in name:
        cls, attr = name.split(".", 1)
        seen = set()
        while cls in classes and cls not in seen:       # follow bases defined in the same file
            seen.add(cls)
            node = classes[cls]
            if any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == attr
                   for n in node.body):
                return True
            bases = [b.id for b in node.bases if isinstance(b, ast.Name)]
            cls = bases[0] if bases else None
        return False
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) \
                and node.name == name:
            return True
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name
                                                for t in node.targets):
            return True
    return False


def test_batch_path_names_real_files_and_functions():
    items = _batch_path_items()
    assert items, f"the batch path section of {DOC_NAME} has no list items"
    problems, files = [], []
    for number, item in enumerate(items, 1):
        paths = sorted(set(re.findall(r"nnlite/[\w/]+\.py", item)))
        if len(paths) != 1:
            problems.append(f"step {number} names {len(paths)} files {paths}; name exactly one "
                            "(nnlite/...py) per step")
            continue
        path = paths[0]
        files.append(path)
        names = [n for n in re.findall(r"`([^`]+)`", item)
                 if n != path and re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)?", n)]
        if not os.path.exists(os.path.join(ROOT, path)):
            problems.append(f"step {number}: {path} does not exist; use the file's current name")
            continue
        if not names:
            problems.append(f"step {number} ({path}) names no function in backticks")
        tree = _parse(os.path.join(ROOT, path))
        for name in names:
            if not _defined(tree, name):
                problems.append(f"step {number}: `{name}` is not defined in {path}; use the "
                                "current name (backticks in a step mark names this test checks)")
    distinct = list(dict.fromkeys(files))
    if len(distinct) > MAX_BATCH_PATH_FILES:
        problems.append(f"the path names {len(distinct)} files; keep it to "
                        f"{MAX_BATCH_PATH_FILES} (the essential ones)")
    _fail_if(problems, f"the batch path in {DOC_NAME}:\n  " + "\n  ".join(problems))


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
