"""The font lists the drawing sets use: disjoint, every face renders, a missing face says how
to get it."""
import os

import numpy as np
import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

from apps import fonts, glyphs  # noqa: E402


def test_training_evaluation_and_dev_fonts_share_no_face():
    train, evaluation, dev = map(set, (fonts.TRAIN_FONTS, fonts.EVAL_FONTS, fonts.DEV_FONTS))
    assert not (train & evaluation or train & dev or evaluation & dev)
    files = {name: fonts.FONTS[name][1] for name in fonts.FONTS}
    assert not ({files[n] for n in train} & {files[n] for n in evaluation})
    assert set(fonts.PACKAGED_TRAIN_FONTS) <= train


def test_no_training_face_copies_an_evaluation_design():
    # Nimbus Sans is the design FreeSans derives from; Nimbus Roman is a Times, as STIX is.
    assert not any(name.startswith(("nimbus-sans", "nimbus-roman")) for name in fonts.TRAIN_FONTS)


def _installed(name):
    try:
        fonts.font_path(name)
        return True
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("name", [n for n in fonts.FONTS if fonts.FONTS[n][0] != "opencv"])
def test_every_face_draws_each_digit(name):
    if not _installed(name):
        pytest.skip(f"{name} needs the Debian package {fonts.SYSTEM_FONT_PACKAGE}")
    for digit in "0123456789":
        image = glyphs.glyph_image(name, digit)
        assert image is not None and image.shape == (glyphs.FRAME, glyphs.FRAME)
        assert 0.02 < float(np.mean(image > 0.5)) < 0.5
        assert glyphs.char_strokes(name, digit)


def test_a_missing_system_face_names_the_package(monkeypatch, tmp_path):
    monkeypatch.setattr(fonts, "SYSTEM_FONT_DIRS", (str(tmp_path),))
    with pytest.raises(FileNotFoundError, match=fonts.SYSTEM_FONT_PACKAGE):
        fonts.font_path(fonts.URW_NAMES[0])
