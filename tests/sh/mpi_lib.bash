# tests/sh/mpi_lib.bash - the Open MPI setting every MPI test script needs (sourced; not a
# test itself, so it does not end in .sh, which tests/run.sh would run): BUILD and MPIRUN
# defaults; root allowed; no binding and oversubscription allowed (up to 8 ranks on 2 cores);
# mpi_flags, the mpirun options to pass; need_bin PATH, which exits 1 when PATH was not built.
BUILD=${BUILD:-build}
MPIRUN=${MPIRUN:-mpirun}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_hwloc_base_binding_policy=${OMPI_MCA_hwloc_base_binding_policy:-none}
export OMPI_MCA_rmaps_base_oversubscribe=1
mpi_flags="--oversubscribe"
[ "$(id -u)" = 0 ] && mpi_flags="$mpi_flags --allow-run-as-root"
need_bin() {
	[ -x "$1" ] || { echo "missing $1 (run make first)"; exit 1; }
}
