# The few nixpkgs `lib` functions nix/module.nix uses, written with builtins only, so that
# nix/tests/module.nix evaluates the module here without nixpkgs. Types check values as
# nixpkgs' types do, and say so in nixpkgs' words; merging of definitions is not modelled (one
# definition per option: the test's).
let
  inherit (builtins) all attrNames concatStringsSep elem filter isAttrs isBool isInt isList isString listToAttrs map match replaceStrings stringLength substring;
  type = name: description: check: { inherit name description check; };
in
rec {
  mkOption = attributes: attributes // { _type = "option"; };
  mkEnableOption = description: mkOption { type = types.bool; default = false; description = "Whether to enable ${description}."; };
  mkPackageOption = pkgs: name: _: mkOption { type = types.package; default = pkgs.${name}; description = "The ${name} package to use."; };
  mkIf = condition: content: { _type = "if"; inherit condition content; };

  types = {
    bool = type "bool" "boolean" isBool;
    str = type "str" "string" isString;
    port = type "port" "16 bit unsigned integer; between 0 and 65535 (both inclusive)" (value: isInt value && value >= 0 && value <= 65535);
    path = type "path" "absolute path" (value: (isString value || builtins.isPath value) && substring 0 1 (toString value) == "/");
    package = type "package" "package" (value: isAttrs value && (value.type or null) == "derivation");
    anything = type "anything" "anything" (_: true);
    enum = values: type "enum" "one of ${concatStringsSep ", " (map (value: "\"${value}\"") values)}" (value: elem value values);
    nullOr = inner: type "nullOr" "null or ${inner.description}" (value: value == null || inner.check value);
    listOf = inner: type "listOf" "list of ${inner.description}" (value: isList value && all inner.check value);
    attrsOf = inner: type "attrsOf" "attribute set of ${inner.description}"
      (value: isAttrs value && all (name: inner.check value.${name}) (attrNames value));
  };

  optional = condition: element: if condition then [ element ] else [ ];
  hasPrefix = prefix: text: substring 0 (stringLength prefix) text == prefix;
  nameValuePair = name: value: { inherit name value; };
  mapAttrs' = function: set: listToAttrs (map (name: function name set.${name}) (attrNames set));
  getExe = package: "${package.outPath}/bin/${package.meta.mainProgram}";

  # nixpkgs' escapeShellArg: safe words as they are, anything else in single quotes.
  escapeShellArg = argument:
    let text = toString argument; in
    if match "[[:alnum:],._+:@%/=-]+" text != null then text else "'${replaceStrings [ "'" ] [ "'\\''" ] text}'";
  escapeShellArgs = arguments: concatStringsSep " " (map escapeShellArg arguments);

  recursiveUpdate = left: right:
    left // listToAttrs (map (name: {
      inherit name;
      value = if isAttrs (left.${name} or null) && isAttrs right.${name} && !(right.${name} ? _type) && !(left.${name} ? outPath)
        then recursiveUpdate left.${name} right.${name} else right.${name};
    }) (attrNames right));

  inherit filter;
}
