// SPDX-License-Identifier: Apache-2.0
#pragma once

namespace postern {

/// The release this binary belongs to.
inline constexpr const char* version = "0.1.0";

} // namespace postern
