# The option combinations NixTests checks: each renders to flags, credentials and a configuration
# that the real `lookout check-config` must accept (the bad ones, refuse).
let
  render = import ../render.nix;
in
{
  defaults = render { };
  microvmHost = render {
    microvmStateDir = "/var/lib/microvms";
    enabledCollectors = [ "microvm" ];
    settings.collector.microvm.socket-timeout = "500ms";
  };
  shipping = render {
    listenAddress = "::1";
    port = 9101;
    journal = { enable = true; directories = [ "/var/log/journal" "/var/lib/microvms/web/journal" ]; };
    elasticsearch = { urls = [ "https://es-1:9200" "https://es-2:9200" ]; credential = "api-key"; };
    eventsToken = true;
    settings.elasticsearch.index = "lookout-logs-%Y.%m.%d";
    settings.shutdown.grace-period = "20s";
  };
  rulesAndAlertmanager = render {
    ruleFiles = [ "/etc/lookout/rules/host.rules.yml" ];
    alertmanagerUrls = [ "http://127.0.0.1:9093" ];
    webConfigFile = "/etc/lookout/web.yml";
    settings.rules.evaluation-interval = "30s";
  };
  journalCountersOnly = render { journal.enable = true; };
  everythingOff = render {
    disabledCollectors = [ "cpu" "diskstats" "filesystem" "netdev" "microvm" "textfile" ];
    defaultRules = false;
    settings.collector.disable-defaults = true;
    extraFlags = [ "--log.level=warn" ];
  };
  # A setting lookout refuses: check-config must name the key.
  badSetting = render { settings.web.max-requests = "many"; };
}
