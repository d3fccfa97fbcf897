# services.lookout: the NixOS module, in the style of nixpkgs' prometheus exporter modules
# (nixos/modules/services/monitoring/prometheus/exporters.nix). What the options become on the
# command line and in the configuration file is nix/render.nix, shared with the offline tests.
{ config, lib, pkgs, ... }:
let
  cfg = config.services.lookout;
  inherit (lib) mkOption mkEnableOption mkIf types;

  # microvm.nix's host module declares microvm.stateDir; without it there are no microVMs here.
  microvmStateDir = if config ? microvm && config.microvm ? stateDir then toString config.microvm.stateDir else null;

  rendered = import ./render.nix {
    inherit (cfg) listenAddress port enabledCollectors disabledCollectors settings extraFlags;
    inherit microvmStateDir;
    dataDir = "/var/lib/lookout";
    journal = { inherit (cfg.journal) enable directories; };
    elasticsearch = {
      inherit (cfg.elasticsearch) urls;
      credential = if cfg.elasticsearch.credentialFile == null then null else cfg.elasticsearch.credentialKind;
    };
    eventsToken = cfg.eventsTokenFile != null;
    inherit (cfg) webConfigFile ruleFiles defaultRules alertmanagerUrls;
    configFile = if rendered.settings == { } then null else checkedConfig;
  };

  # The configuration file, refused at build time when lookout refuses it (as nixpkgs checks
  # Prometheus' configuration with promtool).
  checkedConfig = pkgs.runCommand "lookout.yml" { nativeBuildInputs = [ cfg.package ]; } ''
    cat > $out <<'LOOKOUT_CONFIG'
    ${rendered.configText}
    LOOKOUT_CONFIG
    lookout check-config $out
  '';

  credentialSources =
    (lib.optional (cfg.elasticsearch.credentialFile != null)
      "elasticsearch-${cfg.elasticsearch.credentialKind}:${cfg.elasticsearch.credentialFile}")
    ++ lib.optional (cfg.eventsTokenFile != null) "events-token:${cfg.eventsTokenFile}";
in
{
  options.services.lookout = {
    enable = mkEnableOption "Lookout, the metrics and log exporter for microVM hosts";
    package = lib.mkPackageOption pkgs "lookout" { };
    listenAddress = mkOption {
      type = types.str;
      default = "127.0.0.1";
      description = "Address to listen on. The events API takes a token, but the metrics are open to anyone who can connect: widen with care, or set webConfigFile.";
    };
    port = mkOption { type = types.port; default = 10100; description = "Port to listen on."; };
    openFirewall = mkOption { type = types.bool; default = false; description = "Open port in the firewall (iptables or nftables)."; };
    enabledCollectors = mkOption { type = types.listOf types.str; default = [ ]; example = [ "microvm" ]; description = "Collectors to enable beside the defaults."; };
    disabledCollectors = mkOption { type = types.listOf types.str; default = [ ]; example = [ "textfile" ]; description = "Default collectors to disable."; };
    settings = mkOption {
      type = types.attrsOf types.anything;
      default = { };
      description = "Lookout's configuration file (README, Configuration file), checked at build time with lookout check-config.";
    };
    extraFlags = mkOption { type = types.listOf types.str; default = [ ]; description = "Extra command-line flags."; };
    journal = {
      enable = mkEnableOption "reading the journal (counted; shipped when elasticsearch.urls are set)";
      directories = mkOption {
        type = types.listOf types.path;
        default = [ ];
        example = [ "/var/log/journal" ];
        description = "Journal directories to read (a microVM's, shared over virtiofs, too); empty reads the local journal.";
      };
    };
    elasticsearch = {
      urls = mkOption { type = types.listOf types.str; default = [ ]; description = "Elasticsearch nodes; shipping is on when one is given."; };
      credentialKind = mkOption { type = types.enum [ "basic-auth" "api-key" "bearer-token" ]; default = "api-key"; description = "What credentialFile holds."; };
      credentialFile = mkOption {
        type = types.nullOr types.str;
        default = null;
        description = "File with the credential, passed through systemd's LoadCredential, never copied into the store.";
      };
    };
    eventsTokenFile = mkOption {
      type = types.nullOr types.str;
      default = null;
      description = "File with the events API token (LoadCredential); the events API is off without it.";
    };
    webConfigFile = mkOption { type = types.nullOr types.path; default = null; description = "exporter-toolkit web configuration (TLS, basic authentication)."; };
    ruleFiles = mkOption { type = types.listOf types.path; default = [ ]; description = "Prometheus rule files to evaluate."; };
    defaultRules = mkOption { type = types.bool; default = true; description = "Evaluate the default rules."; };
    alertmanagerUrls = mkOption { type = types.listOf types.str; default = [ ]; description = "Alertmanagers to notify."; };
    gatePolicies = mkOption {
      type = types.attrsOf types.path;
      default = { };
      description = "Gate policies installed as /etc/lookout/policies/NAME.yml for lookout gate --policy.";
    };
    hypervisorSockets = mkOption {
      type = types.bool;
      default = false;
      description = "Let the microvm collector connect to the hypervisors' control sockets (group kvm). Off: the collector reads files only.";
    };
  };

  config = mkIf cfg.enable {
    assertions = [
      { assertion = cfg.elasticsearch.credentialFile == null || cfg.elasticsearch.urls != [ ]; message = "services.lookout.elasticsearch.credentialFile is set without any elasticsearch.urls"; }
      { assertion = !(lib.hasPrefix "/nix/store" (toString cfg.eventsTokenFile)); message = "services.lookout.eventsTokenFile must not be in the Nix store, where everyone can read it"; }
      { assertion = !(lib.hasPrefix "/nix/store" (toString cfg.elasticsearch.credentialFile)); message = "services.lookout.elasticsearch.credentialFile must not be in the Nix store, where everyone can read it"; }
    ];

    users.users.lookout = { isSystemUser = true; group = "lookout"; description = "Lookout exporter"; };
    users.groups.lookout = { };

    environment.etc = lib.mapAttrs' (name: path: lib.nameValuePair "lookout/policies/${name}.yml" { source = path; }) cfg.gatePolicies;
    environment.systemPackages = [ cfg.package ];

    networking.firewall = mkIf cfg.openFirewall (
      if config.networking.nftables.enable then {
        extraInputRules = "tcp dport ${toString cfg.port} accept comment \"lookout\"";
      } else {
        extraCommands = "ip46tables -A nixos-fw -p tcp -m tcp --dport ${toString cfg.port} -m comment --comment lookout -j nixos-fw-accept";
      });

    systemd.services.lookout = {
      description = "Lookout metrics and log exporter";
      wantedBy = [ "multi-user.target" ];
      after = [ "network.target" ];
      serviceConfig = {
        ExecStart = lib.escapeShellArgs ([ (lib.getExe cfg.package) "serve" ] ++ rendered.flags);
        LoadCredential = credentialSources;
        User = "lookout";
        Group = "lookout";
        # The journal is root:systemd-journal 0640; never PrivateUsers, which would drop the group.
        SupplementaryGroups = lib.optional cfg.journal.enable "systemd-journal" ++ lib.optional cfg.hypervisorSockets "kvm";
        StateDirectory = "lookout";
        StateDirectoryMode = "0750";
        ReadOnlyPaths = lib.optional (microvmStateDir != null) microvmStateDir;
        Restart = "always";
        TimeoutStopSec = 30;
        # The collectors hold their /proc, sysfs and cgroup files open between scrapes, up to a
        # quarter of the soft descriptor limit (sixteen cgroup files a microVM); systemd's default
        # soft limit of 1024 would hold 256. Go raises its own soft limit so for node_exporter.
        LimitNOFILE = 65536;
        WorkingDirectory = "/var/lib/lookout";
        CapabilityBoundingSet = [ "" ];
        DeviceAllow = [ "" ];
        LockPersonality = true;
        MemoryDenyWriteExecute = true;
        NoNewPrivileges = true;
        PrivateDevices = true;
        PrivateTmp = true;
        ProtectClock = true;
        # Read-only: the microvm collector reads the microVMs' cgroups.
        ProtectControlGroups = true;
        ProtectHome = true;
        ProtectHostname = true;
        ProtectKernelLogs = true;
        ProtectKernelModules = true;
        ProtectKernelTunables = true;
        ProtectSystem = "strict";
        RemoveIPC = true;
        # AF_UNIX for the hypervisors' control sockets, AF_NETLINK for the taps' counters (one
        # rtnetlink dump a scrape); no ProtectProc=invisible, the hypervisors' processes run as
        # another user.
        RestrictAddressFamilies = [ "AF_INET" "AF_INET6" "AF_NETLINK" "AF_UNIX" ];
        RestrictNamespaces = true;
        RestrictRealtime = true;
        RestrictSUIDSGID = true;
        SystemCallArchitectures = "native";
        UMask = "0077";
      };
    };
  };
}
