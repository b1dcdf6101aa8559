// `--option BACKEND.KEY=VALUE`: the [comm.BACKEND] table a run's config would give the backend,
// built from the command line and checked against the options the plugin declares, so a typo
// is refused (exit 2) before any rank starts rather than silently measuring the defaults.
#pragma once

#include <string>
#include <vector>

#include "trellis/config.h"
#include "trellis/plugin_registry.h"

namespace trellis::bench {

// The options `texts` give `backend` (texts for other backends are skipped). Throws InputError
// naming the option and what would be valid: an unknown key (with the declared ones), or a value
// that is not of the key's type.
Options backend_options(const PluginRegistry& registry, const std::string& backend,
                        const std::vector<std::string>& texts);

}  // namespace trellis::bench
