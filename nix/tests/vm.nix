# The NixOS VM test (flake check `vm`): a host with services.lookout, a stand-in microvm@ unit
# with a microvm.nix-shaped state directory (no nested KVM), Prometheus scraping Lookout, and
# OpenSearch as the log sink. Needs full nixpkgs, Nix ≥ 2.18 and KVM: it has not been run on the
# machine this was written on (README, NixOS).
{ pkgs, self }:
pkgs.testers.runNixOSTest {
  name = "lookout";
  nodes.machine = { config, pkgs, ... }: {
    imports = [ self.nixosModules.default ];
    virtualisation.memorySize = 2048;

    # microvm.nix's host module declares this option; the stand-in below uses its layout.
    options.microvm.stateDir = pkgs.lib.mkOption { type = pkgs.lib.types.path; default = "/var/lib/microvms"; };

    config = {
      systemd.tmpfiles.rules = [
        "d /var/lib/microvms 0775 root root -"
        "d /var/lib/microvms/web 0775 root root -"
        "L+ /var/lib/microvms/web/current - - - - ${pkgs.writeTextDir "share/microvm/hypervisor" "qemu"}"
        # A secret made at boot, never in the store (LoadCredential reads it as root).
        "f /run/keys/lookout-events 0400 root root - vm-test-token"
      ];
      systemd.services."microvm@web" = {
        wantedBy = [ "multi-user.target" ];
        serviceConfig = { ExecStart = "${pkgs.coreutils}/bin/sleep infinity"; WorkingDirectory = "/var/lib/microvms/web"; };
      };

      services.opensearch.enable = true;

      services.lookout = {
        enable = true;
        enabledCollectors = [ "microvm" ];
        journal.enable = true;
        elasticsearch.urls = [ "http://127.0.0.1:9200" ];
        eventsTokenFile = "/run/keys/lookout-events";
        settings.elasticsearch.flush-interval = "1s";
      };

      services.prometheus = {
        enable = true;
        globalConfig.scrape_interval = "2s";
        scrapeConfigs = [{ job_name = "lookout"; static_configs = [{ targets = [ "127.0.0.1:10100" ]; }]; }];
      };
    };
  };

  testScript = ''
    machine.wait_for_unit("lookout.service")
    machine.wait_for_open_port(10100)
    machine.succeed("systemctl show lookout.service -p User | grep -q 'User=lookout'")
    machine.succeed("systemctl show lookout.service -p ProtectSystem | grep -q strict")
    machine.succeed("curl -sSf http://127.0.0.1:10100/metrics | grep -q '^node_load1 '")
    machine.wait_until_succeeds("curl -sSf http://127.0.0.1:10100/metrics | grep -q 'microvm_info{.*vm=\"web\"'")
    machine.wait_for_unit("prometheus.service")
    machine.wait_until_succeeds(
      "curl -sSf 'http://127.0.0.1:9090/api/v1/query?query=up{job=\"lookout\"}' | grep -q '\"1\"'")
    machine.wait_for_unit("opensearch.service")
    machine.succeed("echo lookout-vm-test-line | systemd-cat -t vmtest")
    machine.wait_until_succeeds(
      "curl -sSf 'http://127.0.0.1:9200/lookout-logs-*/_search?q=message:lookout-vm-test-line' | grep -q lookout-vm-test-line",
      timeout=120)
    machine.succeed("lookout summary")
    machine.succeed("lookout gate --pipeline vm --run-id 1 --stage prod --wait 5s --json; test $? -le 2")
  '';
}
