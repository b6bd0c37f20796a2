"""Argument types and the parser every command line shares (``nnlite`` and the checkout's
``python -m apps|benchmarks|baselines``).

- Types for numeric flags (``positive_int``, ``non_negative_int``, ``int_range``,
  ``positive_float``, ``fraction``) and for URLs: argparse refuses a bad value with a message
  saying what the flag expects (``--limit 0``: expected an integer >= 1, got 0).
- ``ArgumentParser``: argparse that names the nearest option for a typo (``--epocs``: did you
  mean ``--epochs``?) in the subcommand that was chosen, and the nearest subcommand.
"""
import argparse
import difflib
import math
import re
import urllib.parse


# -- argument types -------------------------------------------------------------------------------
def _number(text, kind):
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'}"
                                         f", got {text!r}") from None
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def positive_int(text):
    """An integer >= 1 (epochs, batch size, --limit, repeats, ...)."""
    value = _number(text, int)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def non_negative_int(text):
    """An integer >= 0 (seeds, counts that may be zero)."""
    value = _number(text, int)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {value}")
    return value


def int_range(low, high):
    """A type accepting integers in [low, high]."""
    def parse(text):
        value = _number(text, int)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected an integer in {low}..{high}, got {value}")
        return value
    parse.__name__ = f"integer in {low}..{high}"
    return parse


def positive_float(text):
    """A finite number > 0 (learning rate, width)."""
    value = _number(text, float)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text}")
    return value


def fraction(text):
    """A number in [0, 1) (dropout rate, validation split)."""
    value = _number(text, float)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text}")
    return value


def url(text):
    """An http(s):// or file:// base URL."""
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https", "file") or not (parts.netloc or parts.path):
        raise argparse.ArgumentTypeError(f"expected a URL such as https://host/path/, got "
                                         f"{text!r}")
    return text


# -- the parser ---------------------------------------------------------------------------------
class ArgumentParser(argparse.ArgumentParser):
    """argparse, plus "did you mean" for a mistyped option or subcommand."""

    def parse_args(self, args=None, namespace=None):
        args, extras = self.parse_known_args(args, namespace)
        if extras:
            parser = _chosen_parser(self, args)
            hint = _suggestion(extras, _option_strings(parser))
            parser.error(f"unrecognized arguments: {' '.join(extras)}{hint}")
        return args

    def error(self, message):
        match = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if match:
            choices = re.findall(r"'([^']*)'", match.group(2))
            close = difflib.get_close_matches(match.group(1), choices, n=1)
            if close:
                message += f"; did you mean {close[0]!r}?"
        super().error(message)


def _chosen_parser(parser, args):
    """The innermost (sub)parser the command line selected."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            name = getattr(args, action.dest, None)
            if name in action.choices:
                return _chosen_parser(action.choices[name], args)
    return parser


def _option_strings(parser):
    return [s for action in parser._actions for s in action.option_strings if s.startswith("--")]


def _suggestion(extras, options):
    for extra in extras:
        if extra.startswith("-"):
            close = difflib.get_close_matches(extra.split("=", 1)[0], options, n=1, cutoff=0.6)
            if close:
                return f" (did you mean {close[0]}?)"
    return ""
