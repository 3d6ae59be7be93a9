#include "daemon/exec_path.h"

namespace workerd {

std::optional<std::string_view> FindEnv(const std::vector<std::string>& env,
                                        std::string_view name) {
  for (const std::string& entry : env) {
    std::string_view view(entry);
    if (view.size() > name.size() && view[name.size()] == '=' &&
        view.substr(0, name.size()) == name) {
      return view.substr(name.size() + 1);
    }
  }
  return std::nullopt;
}

std::vector<std::string> ExecCandidates(const std::string& program,
                                        const std::vector<std::string>& env) {
  if (program.find('/') != std::string::npos) return {program};
  std::string_view path = FindEnv(env, "PATH").value_or(kDefaultExecPath);
  std::vector<std::string> candidates;
  while (true) {
    size_t colon = path.find(':');
    std::string_view dir = path.substr(0, colon);
    std::string candidate(dir.empty() ? std::string_view(".") : dir);
    candidate += '/';
    candidate += program;
    candidates.push_back(std::move(candidate));
    if (colon == std::string_view::npos) break;
    path.remove_prefix(colon + 1);
  }
  return candidates;
}

}  // namespace workerd
