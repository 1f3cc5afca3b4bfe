#include "auth/jwt.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "core/base64.hpp"
#include "core/json.hpp"
#include "core/object_id.hpp"

namespace parley::auth {

namespace {

constexpr std::string_view kHeader = R"({"alg":"HS256","typ":"JWT"})";

std::array<unsigned char, 32> hmac_sha256(std::string_view key, std::string_view data) {
  std::array<unsigned char, 32> mac{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data(), &len);
  return mac;
}

core::Error unauthorized(std::string detail) {
  return core::Error::make(core::ErrorCode::unauthorized, "Invalid or expired token",
                           std::move(detail));
}

// A token's header and claims are flat objects; this bounds what an
// unverified header may make the parser do.
constexpr std::size_t kMaxJsonDepth = 4;

bool parse_object(std::string_view b64, rapidjson::Document& doc) {
  std::string json;
  if (!base64url_decode(b64, json)) return false;
  return core::parse_json(doc, json, kMaxJsonDepth) == core::JsonParseError::none && doc.IsObject();
}

}  // namespace

std::string base64url_encode(std::string_view bytes) {
  return core::base64_encode(bytes, core::Base64::url);
}

bool base64url_decode(std::string_view text, std::string& out) {
  auto bytes = core::base64_decode(text, core::Base64::url);
  if (!bytes) return false;
  out = std::move(*bytes);
  return true;
}

std::string Jwt::sign(const Claims& claims) const {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("sub");
  w.String(claims.sub.data(), static_cast<rapidjson::SizeType>(claims.sub.size()));
  w.Key("iat");
  w.Int64(claims.iat);
  w.Key("exp");
  w.Int64(claims.exp);
  w.Key("jti");
  w.String(claims.jti.data(), static_cast<rapidjson::SizeType>(claims.jti.size()));
  w.EndObject();
  std::string token = base64url_encode(kHeader);
  token += '.';
  token += base64url_encode(std::string_view(buf.GetString(), buf.GetSize()));
  const auto mac = hmac_sha256(secret_, token);
  token += '.';
  token +=
      base64url_encode(std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()));
  return token;
}

core::Result<Claims> Jwt::verify(std::string_view token, std::int64_t now_seconds) const {
  const auto dot1 = token.find('.');
  if (dot1 == std::string_view::npos) return core::fail(unauthorized("jwt: no dots"));
  const auto dot2 = token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return core::fail(unauthorized("jwt: not three parts"));
  }
  rapidjson::Document header;
  if (!parse_object(token.substr(0, dot1), header)) {
    return core::fail(unauthorized("jwt: bad header"));
  }
  const auto alg = header.FindMember("alg");
  if (alg == header.MemberEnd() || !alg->value.IsString() ||
      std::string_view(alg->value.GetString(), alg->value.GetStringLength()) != "HS256") {
    return core::fail(unauthorized("jwt: algorithm not allowed"));
  }
  std::string signature;
  if (!base64url_decode(token.substr(dot2 + 1), signature) || signature.size() != 32) {
    return core::fail(unauthorized("jwt: bad signature encoding"));
  }
  const auto mac = hmac_sha256(secret_, token.substr(0, dot2));
  if (CRYPTO_memcmp(mac.data(), signature.data(), mac.size()) != 0) {
    return core::fail(unauthorized("jwt: signature mismatch"));
  }
  rapidjson::Document payload;
  if (!parse_object(token.substr(dot1 + 1, dot2 - dot1 - 1), payload)) {
    return core::fail(unauthorized("jwt: bad payload"));
  }
  Claims c;
  const auto sub = payload.FindMember("sub");
  const auto exp = payload.FindMember("exp");
  const auto iat = payload.FindMember("iat");
  const auto jti = payload.FindMember("jti");
  if (sub == payload.MemberEnd() || !sub->value.IsString()) {
    return core::fail(unauthorized("jwt: no sub"));
  }
  c.sub.assign(sub->value.GetString(), sub->value.GetStringLength());
  if (!core::is_object_id(c.sub)) return core::fail(unauthorized("jwt: sub is not an id"));
  if (exp == payload.MemberEnd() || !exp->value.IsInt64()) {
    return core::fail(unauthorized("jwt: no exp"));
  }
  c.exp = exp->value.GetInt64();
  if (c.exp <= now_seconds) return core::fail(unauthorized("jwt: expired"));
  if (const auto nbf = payload.FindMember("nbf"); nbf != payload.MemberEnd()) {
    if (!nbf->value.IsNumber()) return core::fail(unauthorized("jwt: nbf is not a number"));
    if (nbf->value.GetDouble() > static_cast<double>(now_seconds + leeway_)) {
      return core::fail(unauthorized("jwt: not yet valid"));
    }
  }
  if (iat != payload.MemberEnd() && iat->value.IsInt64()) c.iat = iat->value.GetInt64();
  if (jti == payload.MemberEnd() || !jti->value.IsString() || jti->value.GetStringLength() == 0) {
    return core::fail(unauthorized("jwt: no jti"));
  }
  c.jti.assign(jti->value.GetString(), jti->value.GetStringLength());
  return c;
}

}  // namespace parley::auth
