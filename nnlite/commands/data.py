"""``nnlite data``: where the datasets are, and downloading them."""
from ..datasets import load
from ..download import download
from .arguments import url
from .common import check_writable_folder


def register(sub):
    p = sub.add_parser("data", help="locate, verify or download MNIST / Fashion-MNIST",
                       description="Locate, verify or download the datasets nnlite trains on.")
    dsub = p.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    d = dsub.add_parser("download", help="fetch a dataset into the cache (checksummed, atomic)")
    d.add_argument("name", choices=["mnist", "fashion-mnist"])
    d.add_argument("--dest", help="folder to write into (default ~/.cache/nnlite/NAME)")
    d.add_argument("--mirror", action="append", type=url, metavar="URL",
                   help="base URL to fetch from instead of the public mirrors (repeatable)")
    d.set_defaults(func=_download)
    i = dsub.add_parser("info", help="show where a dataset is found and verify it")
    i.add_argument("name", choices=["mnist", "fashion-mnist"])
    i.add_argument("--path", help="folder holding the four IDX files")
    i.set_defaults(func=_info)


def _download(args):
    if args.dest:                  # refused now, not after the first file has downloaded
        check_writable_folder(args.dest, "--dest")
    dest = download(args.name, dest=args.dest, mirrors=args.mirror)
    print(f"{args.name}: verified and ready in {dest}")


def _info(args):
    (xtr, ytr), (xte, yte) = load(args.name, args.path)
    print(f"{args.name}: train {xtr.shape} {xtr.dtype}, test {xte.shape}; checksums OK; "
          f"pixel mean {xtr.mean() / 255:.4f}, std {xtr.std() / 255:.4f}")
