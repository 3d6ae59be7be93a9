// Where a worker's program is looked for: the PATH search of execvp(3),
// done in the parent before the spawn so that the child only calls execve.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace workerd {

// The PATH used when the worker's environment has none.
inline constexpr std::string_view kDefaultExecPath =
    "/usr/local/bin:/usr/bin:/bin";

// The value of the first NAME=... in `env`, as getenv would find it.
std::optional<std::string_view> FindEnv(const std::vector<std::string>& env,
                                        std::string_view name);

// The paths execve should try for `program`, in order, as execvp would: the
// program itself when it has a slash, else each directory of the PATH in
// `env` (an empty element is the current directory).
std::vector<std::string> ExecCandidates(const std::string& program,
                                        const std::vector<std::string>& env);

}  // namespace workerd
