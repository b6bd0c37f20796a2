"""The fonts the app's drawing sets are written in, and which of them each use may see.

    path = font_path("c059-italic")        # the font file, or a FileNotFoundError saying how
                                            # to get it

Most faces ship with the software nnlite already uses: matplotlib (DejaVu, STIX, Computer
Modern), pygame (FreeSans Bold), OpenCV (its built-in face). The URW faces (Century
Schoolbook, Palatino, Bookman, Avant Garde Gothic, Zapf Chancery, Courier designs) come from
the Debian package ``fonts-urw-base35``; only the reader's training uses them.

The three lists never share a family, and no training face copies the design of an
evaluation face: URW's Nimbus Sans (the design FreeSans derives from) and Nimbus Roman (a
Times design, as STIX is) are left out for that reason.
"""
import functools
import glob
import os

# name -> ("ttf", file in matplotlib's font folder | "pygame-default"), ("system", file in
# the system's font folders) or ("opencv", (face, thickness)): OpenCV's built-in face (OpenCV
# 5 draws its "Hershey" names with one sans-serif face and its italic; older versions with the
# Hershey stroke fonts).
FONTS = {
    "dejavu-sans": ("ttf", "DejaVuSans.ttf"),
    "dejavu-sans-bold": ("ttf", "DejaVuSans-Bold.ttf"),
    "dejavu-sans-oblique": ("ttf", "DejaVuSans-Oblique.ttf"),
    "dejavu-serif": ("ttf", "DejaVuSerif.ttf"),
    "dejavu-serif-italic": ("ttf", "DejaVuSerif-Italic.ttf"),
    "stix": ("ttf", "STIXGeneral.ttf"),
    "stix-italic": ("ttf", "STIXGeneralItalic.ttf"),
    "cm-roman": ("ttf", "cmr10.ttf"),
    "cm-sans": ("ttf", "cmss10.ttf"),
    "cm-italic": ("ttf", "cmti10.ttf"),
    "freesans-bold": ("ttf", "pygame-default"),
    "dejavu-mono": ("ttf", "DejaVuSansMono.ttf"),
    "dejavu-mono-bold": ("ttf", "DejaVuSansMono-Bold.ttf"),
    "dejavu-mono-oblique": ("ttf", "DejaVuSansMono-Oblique.ttf"),
    "dejavu-mono-bold-oblique": ("ttf", "DejaVuSansMono-BoldOblique.ttf"),
    "cm-typewriter": ("ttf", "cmtt10.ttf"),
    "dejavu-sans-bold-oblique": ("ttf", "DejaVuSans-BoldOblique.ttf"),
    "dejavu-serif-bold": ("ttf", "DejaVuSerif-Bold.ttf"),
    "dejavu-serif-bold-italic": ("ttf", "DejaVuSerif-BoldItalic.ttf"),
    "stix-bold": ("ttf", "STIXGeneralBol.ttf"),
    "stix-bold-italic": ("ttf", "STIXGeneralBolIta.ttf"),
    "cm-bold": ("ttf", "cmb10.ttf"),
    "opencv-sans": ("opencv", ("SIMPLEX", 1)),
    "opencv-sans-bold": ("opencv", ("SIMPLEX", 2)),
    "opencv-italic": ("opencv", ("SCRIPT_SIMPLEX", 1)),
}
URW_FACES = {
    "c059": ("C059-Roman", "C059-Italic", "C059-Bold", "C059-BdIta"),
    "p052": ("P052-Roman", "P052-Italic", "P052-Bold", "P052-BoldItalic"),
    "bookman": ("URWBookman-Light", "URWBookman-LightItalic", "URWBookman-Demi",
                "URWBookman-DemiItalic"),
    "gothic": ("URWGothic-Book", "URWGothic-BookOblique", "URWGothic-Demi",
               "URWGothic-DemiOblique"),
    "nimbus-mono": ("NimbusMonoPS-Regular", "NimbusMonoPS-Italic", "NimbusMonoPS-Bold",
                    "NimbusMonoPS-BoldItalic"),
    "chancery": ("Z003-MediumItalic",),
}
URW_NAMES = tuple(f"{family}-{file.split('-', 1)[1].lower()}"
                  for family, files in URW_FACES.items() for file in files)
FONTS.update({name: ("system", file + ".otf") for name, file in zip(
    URW_NAMES, [f for files in URW_FACES.values() for f in files])})
SYSTEM_FONT_PACKAGE = "fonts-urw-base35"
SYSTEM_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts")

# The fonts a reader model may learn from, and the disjoint fonts every measurement uses
# (DejaVu Sans Mono is the monospaced cousin of DejaVu Sans; no other family is shared).
PACKAGED_TRAIN_FONTS = ("dejavu-mono", "dejavu-mono-bold", "dejavu-mono-oblique",
                        "dejavu-mono-bold-oblique", "cm-typewriter", "opencv-sans",
                        "opencv-sans-bold", "opencv-italic")
TRAIN_FONTS = PACKAGED_TRAIN_FONTS + URW_NAMES
EVAL_FONTS = ("dejavu-sans", "dejavu-sans-bold", "dejavu-sans-oblique", "dejavu-serif",
              "dejavu-serif-italic", "stix", "stix-italic", "cm-roman", "cm-sans", "cm-italic",
              "freesans-bold")
# Fonts in neither list, for choosing the reader's settings on faces it has never seen without
# looking at the measurements (siblings of evaluation faces: closer to them than TRAIN_FONTS).
DEV_FONTS = ("dejavu-sans-bold-oblique", "dejavu-serif-bold", "dejavu-serif-bold-italic",
             "stix-bold", "stix-bold-italic", "cm-bold")


def font_path(name):
    """The file of font ``name`` (a key of FONTS whose kind is "ttf" or "system")."""
    kind, file = FONTS[name]
    if kind == "system":
        for folder in SYSTEM_FONT_DIRS:
            found = glob.glob(os.path.join(os.path.expanduser(folder), "**", file),
                              recursive=True)
            if found:
                return sorted(found)[0]
        raise FileNotFoundError(
            f"font {name!r} ({file}) is not installed: it comes from the Debian package "
            f"{SYSTEM_FONT_PACKAGE} (apt-get install -y {SYSTEM_FONT_PACKAGE})")
    if file == "pygame-default":
        import pygame
        return os.path.join(os.path.dirname(pygame.__file__), pygame.font.get_default_font())
    import matplotlib
    path = os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data", "fonts", "ttf", file)
    if not os.path.exists(path):
        raise FileNotFoundError(f"font {name!r}: file {path} not found")
    return path


@functools.lru_cache(maxsize=None)
def pygame_font(name, size):
    """A pygame Font of ``name`` at ``size`` px (loaded once)."""
    import pygame
    if not pygame.font.get_init():
        pygame.font.init()
    return pygame.font.Font(font_path(name), size)
