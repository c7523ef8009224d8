#!/bin/sh
# /opt/parasol/bin/parasol in Parasol's images: the `parasol` command line on the image's JVM.
#
# - JAVA_OPTS (set in the Dockerfile: memory flags sized from the container's limit) goes to
#   the JVM of every command but `health`, which runs on a small fixed heap so that a health
#   check stays cheap next to the shard it checks.
# - JavaCPP's cache is the image's pre-filled /opt/parasol/javacpp-cache (PARASOL_JAVACPP_CACHE
#   moves it), so ND4J's natives are not unpacked again at every start.
# - For `worker` and `local`, PARASOL_JOB_FLAGS (job flags separated by spaces, e.g.
#   "--mode async --epochs 30"; docker/job.env in compose) is appended to the arguments, so every
#   worker of a job gets the same job flags from one env file. Give each flag in one place
#   only: a flag both there and on the command line is refused ("should be specified only once").
set -eu
home="${PARASOL_HOME:-/opt/parasol}"
cache="${PARASOL_JAVACPP_CACHE:-$home/javacpp-cache}"
jvm_opts="${JAVA_OPTS:-}"
case "${1:-}" in
  worker | local)
    command="$1"
    shift
    set -f  # split PARASOL_JOB_FLAGS on spaces, without expanding globs
    # shellcheck disable=SC2086
    set -- "$command" "$@" ${PARASOL_JOB_FLAGS:-}
    set +f
    ;;
  health)
    jvm_opts="-Xmx64m -XX:+UseSerialGC -XX:TieredStopAtLevel=1"
    ;;
esac
# shellcheck disable=SC2086
exec java $jvm_opts "-Dorg.bytedeco.javacpp.cachedir=$cache" -jar "$home/parasol.jar" "$@"
