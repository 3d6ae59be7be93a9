// Explaining a TOML syntax error in the words of the mistake that most
// likely caused it. toml++ says what it met where it stopped ("expected
// 'false', saw 'fo'"); users wrote an unclosed array, a missing quote or
// 10s instead of "10s", and that is what they should read.
#pragma once

#include <string>
#include <string_view>

#include "daemon/config.h"  // SourcePosition

namespace workerd {

// `text`: the whole document. `description`: what toml++'s parse_error
// says (its description(), "Error while parsing <what>: <detail>").
// `at`: where toml++ stopped (the parse_error's source().begin). Returns a
// sentence without the position: an explanation where the cause is a
// common mistake (an unclosed array, inline table or string; an unquoted
// word, boolean or duration; a bad escape; a mode with a leading zero),
// else toml++'s detail without its "Error while parsing ..." prefix.
std::string ExplainSyntaxError(std::string_view text,
                               std::string_view description, SourcePosition at);

}  // namespace workerd
