{
  description = "Lookout: a metrics and log exporter for hosts that run microVMs";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      overlays.default = final: prev: { lookout = final.callPackage ./nix/package.nix { }; };

      packages = forAllSystems (pkgs: rec {
        lookout = pkgs.callPackage ./nix/package.nix { };
        default = lookout;
      });

      apps = forAllSystems (pkgs: {
        default = { type = "app"; program = nixpkgs.lib.getExe self.packages.${pkgs.system}.lookout; };
      });

      checks = forAllSystems (pkgs: {
        vm = import ./nix/tests/vm.nix { inherit pkgs self; };
      });

      nixosModules.default = { ... }: {
        imports = [ ./nix/module.nix ];
        nixpkgs.overlays = [ self.overlays.default ];
      };
    };
}
