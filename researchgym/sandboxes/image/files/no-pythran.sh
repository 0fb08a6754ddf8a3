#!/bin/sh
# Installs an empty package that provides python3-pythran, before the packages are installed.
#
# Why: Debian bookworm's python3-scipy depends on python3-pythran, a compiler that scipy
# needs only to build its extension modules. Installed, it drags in g++, the Boost headers and
# the BLAS development files: about 600 MB that no sandbox uses. With a provider already
# installed, apt considers the dependency met and leaves them out.
set -eu
dir=$(mktemp -d)
mkdir "$dir/DEBIAN"
cat > "$dir/DEBIAN/control" <<'CONTROL'
Package: researchgym-no-pythran
Version: 1.0
Architecture: all
Maintainer: researchgym <researchgym@localhost>
Provides: python3-pythran
Description: empty stand-in for python3-pythran
 scipy needs pythran only to be built; this keeps a compiler out of the sandbox image.
CONTROL
dpkg-deb --build "$dir" "$dir.deb" >/dev/null
dpkg --install "$dir.deb" >/dev/null
rm -rf "$dir" "$dir.deb"
