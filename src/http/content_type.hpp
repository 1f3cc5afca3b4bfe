// The Content-Type a static file is served with, from its extension: the
// types a built web client ships (HTML, scripts, styles, images, fonts, maps,
// manifests). Anything else is application/octet-stream, which with
// X-Content-Type-Options: nosniff a browser will not run or render.
#pragma once

#include <string_view>

namespace parley::http {

// `path`'s type by the extension of its last segment, case-insensitive;
// text types carry "; charset=utf-8".
std::string_view content_type_for(std::string_view path);

}  // namespace parley::http
