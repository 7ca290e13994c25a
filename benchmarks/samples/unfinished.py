import os
import sys


def list_python_files(root):
    """Return the .py files under root, sorted."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames:
            if name.endswith(".py"):
                found.ap
    return sorted(found)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    for path in list_python_files(argv[0] if argv else "."):
        print(path)


if __name__ == "__main__":
    main()
