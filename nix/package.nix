# The lookout package, built with nixpkgs' Swift toolchain and SwiftPM hook (nixpkgs'
# doc/languages-frameworks/swift.section.md). Not yet buildable: Package.resolved is not in git
# (the build machines' package mirror has revisions of its own), and the upstream revisions that
# fetchSwiftPMDeps needs, and its hash, need a networked machine (README, NixOS: what is open).
{
  lib,
  stdenv,
  swift,
  swiftpm,
  fetchSwiftPMDeps,
  pkg-config,
  lld,
  systemdLibs,
  curl,
  zlib,
  sqlite,
  libxcrypt,
}:
stdenv.mkDerivation (finalAttrs: {
  pname = "lookout";
  version = "0.1.0";

  src = lib.fileset.toSource {
    root = ../.;
    fileset = lib.fileset.unions [ ../Package.swift ../Sources ../linker ../rules ../dashboards ];
  };

  swiftpmDeps = fetchSwiftPMDeps {
    inherit (finalAttrs) pname version src;
    hash = lib.fakeHash;
  };

  # Package.swift links with lld, which lays out the functions in linker/lookout.order first;
  # that takes effect when every function has a section of its own (the Makefile's RELEASE_FLAGS).
  nativeBuildInputs = [ swift swiftpm pkg-config lld ];
  swiftpmFlags = [ "-Xswiftc" "-Xfrontend" "-Xswiftc" "-function-sections" ];
  buildInputs = [ systemdLibs curl zlib sqlite libxcrypt ];

  postInstall = ''
    install -Dm644 rules/lookout.rules.yml $out/share/lookout/rules/lookout.rules.yml
    install -Dm644 -t $out/share/lookout/dashboards/grafana dashboards/grafana/*.json
    install -Dm644 -t $out/share/lookout/dashboards/kibana dashboards/kibana/lookout.ndjson
    install -Dm644 -t $out/share/lookout/dashboards/provisioning dashboards/provisioning/*.yml
  '';

  # libsystemd and libcurl are loaded with dlopen(3) on first use (Package.swift), so they are not
  # in the binary's DT_NEEDED and the fixup's RPATH shrinking drops their directories: add them
  # back once it has run.
  postFixup = ''
    patchelf --add-rpath ${lib.makeLibraryPath [ systemdLibs curl ]} $out/bin/lookout
  '';

  meta = {
    description = "Metrics and log exporter for Linux hosts that run microVMs";
    mainProgram = "lookout";
    platforms = lib.platforms.linux;
  };
})
