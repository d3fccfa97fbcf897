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
    fileset = lib.fileset.unions [ ../Package.swift ../Sources ../rules ../dashboards ];
  };

  swiftpmDeps = fetchSwiftPMDeps {
    inherit (finalAttrs) pname version src;
    hash = lib.fakeHash;
  };

  nativeBuildInputs = [ swift swiftpm pkg-config ];
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
