# Option values render.nix refuses, each with a message naming the option: NixTests evaluates each
# and expects evaluation to fail with that message.
let
  render = import ../render.nix;
in
{
  port = render { port = 70000; };
  collector = render { enabledCollectors = [ "CPU!" ]; };
  both = render { enabledCollectors = [ "cpu" ]; disabledCollectors = [ "cpu" ]; };
  credentialKind = render { elasticsearch = { urls = [ "http://es:9200" ]; credential = "password"; }; };
  credentialWithoutUrls = render { elasticsearch.credential = "api-key"; };
  dataDir = render { dataDir = "relative"; };
}
