module example.com/lifecycle-renameio

go 1.19

require github.com/google/renameio/v2 v2.0.0

// renameio comes from Debian's golang-github-google-renameio-dev (no module
// proxy here); check.sh builds with GOFLAGS=-mod=mod GOPROXY=off.
replace github.com/google/renameio/v2 => /usr/share/gocode/src/github.com/google/renameio
