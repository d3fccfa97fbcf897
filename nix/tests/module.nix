# services.lookout evaluated without nixpkgs: the module's options with their defaults, the test's
# values checked against the option types, `mkIf` resolved, the module's assertions applied.
# NixTests reads the resulting systemd unit, users and firewall as JSON.
let
  lib = import ./lib-shim.nix;
  inherit (builtins) attrNames concatStringsSep deepSeq filter isAttrs listToAttrs map;
  pkgs = {
    lookout = {
      type = "derivation";
      name = "lookout-0.1.0";
      outPath = "/nix/store/00000000000000000000000000000000-lookout-0.1.0";
      meta.mainProgram = "lookout";
    };
    runCommand = name: _: script: {
      type = "derivation";
      inherit name script;
      outPath = "/nix/store/11111111111111111111111111111111-${name}";
    };
  };
  module = import ../module.nix;
  declared = (module { config = { }; inherit lib pkgs; }).options.services.lookout;

  isOption = value: isAttrs value && (value._type or null) == "option";
  defaults = options: listToAttrs (map (name: {
    inherit name;
    value = if isOption options.${name} then options.${name}.default else defaults options.${name};
  }) (attrNames options));
  # Every value the test sets is checked against its option's type, with nixpkgs' words.
  typed = path: options: values: map (name:
    let
      option = options.${name} or (throw "The option `${path}.${name}' does not exist.");
      where = "${path}.${name}";
    in
    if isOption option then
      (if option.type.check values.${name} then true
       else throw "A definition for option `${where}' is not of type `${option.type.description}'. Definition value: ${builtins.toJSON values.${name}}")
    else typed where option values.${name}) (attrNames values);

  resolve = value:
    if isAttrs value && (value._type or null) == "if" then (if value.condition then resolve value.content else { })
    else if isAttrs value && !(value ? outPath) then listToAttrs (map (name: { inherit name; value = resolve value.${name}; }) (attrNames value))
    else value;

  evaluate = { lookout ? { }, host ? { } }:
    let
      cfg = lib.recursiveUpdate (defaults declared) lookout;
      config = lib.recursiveUpdate { networking.nftables.enable = false; } host // { services.lookout = cfg; };
      result = resolve (module { inherit config lib pkgs; }).config;
      failed = filter (assertion: !assertion.assertion) (result.assertions or [ ]);
      checked = deepSeq (typed "services.lookout" declared lookout) (
        if failed != [ ] then throw "Failed assertions:\n${concatStringsSep "\n" (map (assertion: "- ${assertion.message}") failed)}"
        else result);
    in
    removeAttrs checked [ "assertions" ];
in
{
  disabled = evaluate { };
  defaults = evaluate { lookout.enable = true; };
  microvmHost = evaluate {
    lookout = { enable = true; enabledCollectors = [ "microvm" ]; hypervisorSockets = true; };
    host.microvm.stateDir = "/var/lib/microvms";
  };
  shipping = evaluate {
    lookout = {
      enable = true;
      journal = { enable = true; directories = [ "/var/log/journal" ]; };
      elasticsearch = { urls = [ "https://es:9200" ]; credentialFile = "/run/keys/elasticsearch"; };
      eventsTokenFile = "/run/keys/lookout-events";
      settings.shutdown.grace-period = "20s";
    };
  };
  firewallIptables = evaluate { lookout = { enable = true; openFirewall = true; port = 9110; }; };
  firewallNftables = evaluate { lookout = { enable = true; openFirewall = true; }; host.networking.nftables.enable = true; };
  policies = evaluate { lookout = { enable = true; gatePolicies.prod = "/etc/lookout-policies/prod.yml"; }; };

  # Refused, each naming the option.
  badPort = evaluate { lookout = { enable = true; port = 70000; }; };
  badKind = evaluate { lookout = { enable = true; elasticsearch.credentialKind = "password"; }; };
  typo = evaluate { lookout = { enable = true; prot = 1; }; };
  tokenInStore = evaluate { lookout = { enable = true; eventsTokenFile = "/nix/store/abc-token"; }; };
  credentialWithoutUrls = evaluate { lookout = { enable = true; elasticsearch.credentialFile = "/run/keys/es"; }; };
}
