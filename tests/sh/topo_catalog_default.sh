#!/usr/bin/env bash
# tests/sh/topo_catalog_default.sh - a user's own topology, written outside the tree and naming
# shipped parts (gpu_model: H100-SXM), finds the shipped catalog: with build/arplan (the build
# tree's configs/catalog) and with an installed arplan (PREFIX/share/arbench/configs/catalog,
# laid out as `make install` does).  --catalog DIR and ARPLAN_CATALOG override; a catalog:
# key in the file is the file's own choice; when no catalog is found, the error says where it
# looked.
set -u
BUILD=${BUILD:-build}
arplan=$BUILD/arplan
[ -x "$arplan" ] || { echo "FAIL: no $arplan: build first"; exit 1; }
tmp=$(mktemp -d /tmp/topo_catalog.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

mkdir -p "$tmp/home/me"
cat >"$tmp/home/me/mine.yaml" <<'Y'
name: my-fat-tree
node_types:
  - {name: dgx, gpus: 8, gpu_model: H100-SXM, intra: {nvlink: 450GB/s}, nics: {count: 1, speed: 400Gbit}}
fabric: {family: fat-tree, node_type: dgx, nodes: 8, radix: 8}
link_classes:
  host: {rate: 400Gbit}
  fabric: {rate: 400Gbit}
Y
out=$("$arplan" topo "$tmp/home/me/mine.yaml" 2>&1) || fail "build-tree arplan: $out"
echo "ok   build-tree arplan finds the shipped catalog"

# installed as `make install PREFIX=...` lays it out (bin/, share/arbench/configs/)
mkdir -p "$tmp/prefix/bin" "$tmp/prefix/share/arbench"
cp "$arplan" "$tmp/prefix/bin/" && cp -r configs "$tmp/prefix/share/arbench/"
out=$("$tmp/prefix/bin/arplan" topo "$tmp/home/me/mine.yaml" 2>&1) || fail "installed arplan: $out"
echo "ok   installed arplan finds PREFIX/share/arbench/configs/catalog"

# --catalog and ARPLAN_CATALOG: a catalog of our own, whose GPU is the only one
mkdir -p "$tmp/cat"
printf 'parts:\n  - {name: MyGPU, bf16_tflops: 100}\n' >"$tmp/cat/gpus.yaml"
sed 's/H100-SXM/MyGPU/' "$tmp/home/me/mine.yaml" >"$tmp/home/me/own.yaml"
out=$("$arplan" topo "$tmp/home/me/own.yaml" 2>&1) && fail "MyGPU found in the shipped catalog?"
out=$("$arplan" topo --catalog "$tmp/cat" "$tmp/home/me/own.yaml" 2>&1) || fail "--catalog: $out"
out=$(ARPLAN_CATALOG=$tmp/cat "$arplan" topo "$tmp/home/me/own.yaml" 2>&1) ||
	fail "ARPLAN_CATALOG: $out"
echo "ok   --catalog DIR and ARPLAN_CATALOG=DIR"

# nothing to be found: the error says where it looked
mkdir -p "$tmp/lone"
cp "$arplan" "$tmp/lone/arplan"
out=$("$tmp/lone/arplan" topo "$tmp/home/me/mine.yaml" 2>&1)
rc=$?
[ $rc -eq 2 ] || fail "no catalog anywhere: exit $rc, expected 2: $out"
for where in "$tmp/home/me/../catalog" "$tmp/lone/../share/arbench/configs/catalog" \
	"$tmp/lone/../configs/catalog"; do
	[[ $out == *"$where"* ]] || fail "the error does not say it looked in $where: $out"
done
[[ $out == *"mine.yaml:3:"* ]] || fail "the error is not at the gpu_model line: $out"
echo "ok   error names where it looked: $out"
