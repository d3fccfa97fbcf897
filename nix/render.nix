# What services.lookout's option values become: the command line of `lookout serve`, the
# credentials systemd passes to it, and the configuration file. Builtins only, so that
# nix/tests/render.nix evaluates it with Debian's Nix and no nixpkgs, and the rendered
# configurations are checked by the real `lookout check-config` (Tests/IntegrationTests/NixTests).
{
  listenAddress ? "127.0.0.1",
  port ? 10100,
  enabledCollectors ? [ ],
  disabledCollectors ? [ ],
  dataDir ? "/var/lib/lookout",
  # config.microvm.stateDir when the host imports microvm.nix's host module, else null.
  microvmStateDir ? null,
  journal ? { },
  elasticsearch ? { },
  # Whether an events token credential is configured (the events API is off without one).
  eventsToken ? false,
  webConfigFile ? null,
  ruleFiles ? [ ],
  defaultRules ? true,
  alertmanagerUrls ? [ ],
  settings ? { },
  # Where the configuration file is, once rendered and checked; null when there is none.
  configFile ? null,
  extraFlags ? [ ],
}:
let
  journalSettings = { enable = false; directories = [ ]; } // journal;
  elasticsearchSettings = { urls = [ ]; credential = null; } // elasticsearch;
  credentialKinds = [ "basic-auth" "api-key" "bearer-token" ];

  check = condition: message: if condition then true else throw message;
  isIPv6 = builtins.match ".*:.*" listenAddress != null;
  hostPart = if isIPv6 && builtins.substring 0 1 listenAddress != "[" then "[${listenAddress}]" else listenAddress;
  collectorName = name: builtins.match "[a-z0-9_]+" name != null;

  checks = [
    (check (builtins.isInt port && port >= 1 && port <= 65535)
      "services.lookout.port: expected a port from 1 to 65535, got ${builtins.toJSON port}")
    (check (builtins.all collectorName (enabledCollectors ++ disabledCollectors))
      "services.lookout.enabledCollectors/disabledCollectors: a collector name is lower-case letters, digits and _")
    (check (builtins.all (name: !(builtins.elem name disabledCollectors)) enabledCollectors)
      "services.lookout: a collector cannot be both enabled and disabled")
    (check (elasticsearchSettings.credential == null || builtins.elem elasticsearchSettings.credential credentialKinds)
      "services.lookout.elasticsearch.credential: expected one of ${builtins.concatStringsSep ", " credentialKinds}")
    (check (elasticsearchSettings.credential == null || elasticsearchSettings.urls != [ ])
      "services.lookout.elasticsearch.credential: set without any elasticsearch.urls")
    (check (builtins.substring 0 1 dataDir == "/") "services.lookout.dataDir: expected an absolute path, got ${dataDir}")
  ];

  # systemd's %d is the service's credentials directory ($CREDENTIALS_DIRECTORY).
  credentialPath = name: "%d/${name}";

  flags =
    [ "--web.listen-address=${hostPart}:${toString port}" "--data.dir=${dataDir}" ]
    ++ map (name: "--collector.${name}") enabledCollectors
    ++ map (name: "--no-collector.${name}") disabledCollectors
    ++ (if microvmStateDir != null then [ "--collector.microvm.state-dir=${microvmStateDir}" ] else [ ])
    ++ map (directory: "--journal.directory=${directory}") journalSettings.directories
    ++ map (url: "--elasticsearch.url=${url}") elasticsearchSettings.urls
    ++ (if elasticsearchSettings.credential != null then
      [ "--elasticsearch.${elasticsearchSettings.credential}-file=${credentialPath "elasticsearch-${elasticsearchSettings.credential}"}" ]
    else [ ])
    ++ (if eventsToken then [ "--web.events-token-file=${credentialPath "events-token"}" ] else [ ])
    ++ (if webConfigFile != null then [ "--web.config.file=${toString webConfigFile}" ] else [ ])
    ++ map (file: "--rules.file=${toString file}") ruleFiles
    ++ (if defaultRules then [ ] else [ "--no-rules.defaults" ])
    ++ map (url: "--alertmanager.url=${url}") alertmanagerUrls
    ++ (if configFile != null then [ "--config.file=${toString configFile}" ] else [ ])
    ++ extraFlags;

  # Reading the journal without shipping it (its counters only) is a configuration key.
  renderedSettings =
    if journalSettings.enable && elasticsearchSettings.urls == [ ] then
      settings // { journal = (settings.journal or { }) // { enabled = true; }; }
    else settings;
in
builtins.deepSeq checks {
  inherit flags;
  # Names of the credentials the unit must load (LoadCredential=NAME:PATH).
  credentials =
    (if elasticsearchSettings.credential != null then [ "elasticsearch-${elasticsearchSettings.credential}" ] else [ ])
    ++ (if eventsToken then [ "events-token" ] else [ ]);
  settings = renderedSettings;
  # The configuration file's text: JSON, which is YAML too.
  configText = builtins.toJSON renderedSettings;
}
