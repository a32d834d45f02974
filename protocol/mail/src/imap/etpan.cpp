// SPDX-License-Identifier: Apache-2.0
#include "etpan.hpp"

#include "postern/error.hpp"
#include "postern/imap/query.hpp"
#include "postern/mime/charset.hpp"
#include "postern/mime/header.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace postern::imap::detail {

namespace {

std::vector<mime::parameter> convert_params(const mailimap_body_fld_param* p) {
  std::vector<mime::parameter> result;
  if (p == nullptr)
    return result;
  for (auto* param : items<mailimap_single_body_fld_param>(p->pa_list))
    if (param->pa_name != nullptr)
      result.emplace_back(mime::to_lower(str(param->pa_name)),
                          param->pa_value != nullptr ? param->pa_value : "");
  return result;
}

std::string encoding_name(const mailimap_body_fld_enc* enc) {
  if (enc == nullptr)
    return "7bit";
  switch (enc->enc_type) {
    case MAILIMAP_BODY_FLD_ENC_7BIT:
      return "7bit";
    case MAILIMAP_BODY_FLD_ENC_8BIT:
      return "8bit";
    case MAILIMAP_BODY_FLD_ENC_BINARY:
      return "binary";
    case MAILIMAP_BODY_FLD_ENC_BASE64:
      return "base64";
    case MAILIMAP_BODY_FLD_ENC_QUOTED_PRINTABLE:
      return "quoted-printable";
    default:
      return enc->enc_value != nullptr ? mime::to_lower(enc->enc_value) : "";
  }
}

void apply_fields(mime::part& p, const mailimap_body_fields* fields) {
  if (fields == nullptr)
    return;
  p.params = convert_params(fields->bd_parameter);
  p.encoding = encoding_name(fields->bd_encoding);
  p.size = fields->bd_size;
  if (fields->bd_id != nullptr) {
    std::string_view id = fields->bd_id;
    if (id.size() >= 2 && id.front() == '<' && id.back() == '>')
      id = id.substr(1, id.size() - 2);
    p.content_id = std::string{id};
  }
}

void apply_disposition(mime::part& p, const mailimap_body_fld_dsp* dsp) {
  if (dsp == nullptr || dsp->dsp_type == nullptr)
    return;
  p.disposition = mime::to_lower(str(dsp->dsp_type));
  p.disposition_params = convert_params(dsp->dsp_attributes);
}

std::string child_section(const std::string& prefix, size_t index) {
  auto n = std::to_string(index);
  return prefix.empty() ? n : prefix + "." + n;
}

std::string basic_type(const mailimap_media_basic* media) {
  switch (media->med_type) {
    case MAILIMAP_MEDIA_BASIC_APPLICATION:
      return "application";
    case MAILIMAP_MEDIA_BASIC_AUDIO:
      return "audio";
    case MAILIMAP_MEDIA_BASIC_IMAGE:
      return "image";
    case MAILIMAP_MEDIA_BASIC_MESSAGE:
      return "message";
    case MAILIMAP_MEDIA_BASIC_VIDEO:
      return "video";
    default:
      return media->med_basic_type != nullptr
               ? mime::to_lower(str(media->med_basic_type))
               : "application";
  }
}

// `section` is the part's own IMAP section; `prefix` the prefix of its
// children's sections (they differ for the multipart body of a nested
// message, which has no number of its own).
// `parts_left` counts down the parts a message may still have; beyond it
// the rest of the structure is left out (a message of a million tiny parts
// would otherwise cost a million conversions and copies per listing).
mime::part convert(const mailimap_body* body, const std::string& section,
                   const std::string& prefix, int depth, size_t& parts_left);

void convert_multipart(mime::part& p, const mailimap_body_type_mpart* mp,
                       const std::string& prefix, int depth,
                       size_t& parts_left) {
  p.type = "multipart";
  if (mp == nullptr)
    return;
  p.subtype = mp->bd_media_subtype != nullptr
                ? mime::to_lower(str(mp->bd_media_subtype))
                : "mixed";
  if (mp->bd_ext_mpart != nullptr) {
    p.params = convert_params(mp->bd_ext_mpart->bd_parameter);
    apply_disposition(p, mp->bd_ext_mpart->bd_disposition);
  }
  size_t index = 0;
  for (auto* child : items<mailimap_body>(mp->bd_list)) {
    if (parts_left == 0)
      break;
    auto id = child_section(prefix, ++index);
    p.children.push_back(convert(child, id, id, depth + 1, parts_left));
  }
}

// A message/rfc822 part: its envelope as the part's headers, and the
// enclosed message's body as its one child.
void convert_enclosed_message(mime::part& p, const mailimap_body_type_msg* msg,
                              const std::string& section, int depth,
                              size_t& parts_left) {
  p.type = "message";
  p.subtype = "rfc822";
  if (msg == nullptr)
    return;
  apply_fields(p, msg->bd_fields);
  if (auto* env = msg->bd_envelope) {
    p.headers.subject = mime::decode_header(str(env->env_subject));
    p.headers.date = mime::decode_header(str(env->env_date));
    if (env->env_from != nullptr)
      p.headers.from
        = format_addresses(convert_addresses(env->env_from->frm_list));
    if (env->env_to != nullptr)
      p.headers.to = format_addresses(convert_addresses(env->env_to->to_list));
  }
  if (msg->bd_body == nullptr)
    return;
  if (msg->bd_body->bd_type == MAILIMAP_BODY_MPART)
    p.children.push_back(
      convert(msg->bd_body, "", section, depth + 1, parts_left));
  else
    p.children.push_back(convert(msg->bd_body, section + ".1", section + ".1",
                                 depth + 1, parts_left));
}

void convert_single_part(mime::part& p, const mailimap_body_type_1part* one,
                         const std::string& section, int depth,
                         size_t& parts_left) {
  switch (one->bd_type) {
    case MAILIMAP_BODY_TYPE_1PART_BASIC:
      if (auto* basic = one->bd_data.bd_type_basic) {
        if (basic->bd_media_basic != nullptr) {
          p.type = basic_type(basic->bd_media_basic);
          p.subtype = mime::to_lower(str(basic->bd_media_basic->med_subtype));
        }
        apply_fields(p, basic->bd_fields);
      }
      break;
    case MAILIMAP_BODY_TYPE_1PART_TEXT:
      if (auto* text = one->bd_data.bd_type_text) {
        p.type = "text";
        p.subtype = mime::to_lower(str(text->bd_media_text));
        apply_fields(p, text->bd_fields);
      }
      break;
    case MAILIMAP_BODY_TYPE_1PART_MSG:
      convert_enclosed_message(p, one->bd_data.bd_type_msg, section, depth,
                               parts_left);
      break;
    default:
      break;
  }
  if (one->bd_ext_1part != nullptr)
    apply_disposition(p, one->bd_ext_1part->bd_disposition);
  if (p.type.empty())
    p.type = "application";
  if (p.subtype.empty())
    p.subtype = "octet-stream";
}

mime::part convert(const mailimap_body* body, const std::string& section,
                   const std::string& prefix, int depth, size_t& parts_left) {
  mime::part p;
  p.section = section;
  if (body == nullptr || depth > 32 || parts_left == 0)
    return p;
  --parts_left;
  if (body->bd_type == MAILIMAP_BODY_MPART)
    convert_multipart(p, body->bd_data.bd_body_mpart, prefix, depth,
                      parts_left);
  else if (body->bd_data.bd_body_1part != nullptr)
    convert_single_part(p, body->bd_data.bd_body_1part, section, depth,
                        parts_left);
  return p;
}

} // namespace

std::string str(const char* text) {
  return text == nullptr ? std::string{} : mime::to_valid_utf8(text);
}

std::vector<address> convert_addresses(clist* list) {
  std::vector<address> result;
  for (auto* a : items<mailimap_address>(list)) {
    // RFC 3501 group syntax: a NULL host marks the start or end of a group.
    if (a->ad_host_name == nullptr || a->ad_mailbox_name == nullptr)
      continue;
    address x;
    if (a->ad_personal_name != nullptr)
      x.name = mime::decode_header(a->ad_personal_name);
    x.address = mime::to_valid_utf8(std::string{a->ad_mailbox_name} + "@"
                                    + a->ad_host_name);
    result.push_back(std::move(x));
  }
  return result;
}

std::string format_addresses(const std::vector<address>& list) {
  std::string result;
  for (auto& a : list) {
    if (!result.empty())
      result += ", ";
    result += a.name.empty() ? a.address : a.name + " <" + a.address + ">";
  }
  return result;
}

mime::part convert_body(const mailimap_body* body, uint64_t max_parts) {
  auto parts_left = max_parts == 0 ? size_t{1} : static_cast<size_t>(max_parts);
  if (body != nullptr && body->bd_type == MAILIMAP_BODY_MPART)
    return convert(body, "", "", 0, parts_left);
  return convert(body, "1", "1", 0, parts_left);
}

std::vector<std::string> convert_flags(const mailimap_msg_att_dynamic* dyn) {
  std::vector<std::string> result;
  if (dyn == nullptr)
    return result;
  for (auto* ff : items<mailimap_flag_fetch>(dyn->att_list)) {
    if (ff->fl_type == MAILIMAP_FLAG_FETCH_RECENT) {
      result.emplace_back("\\Recent");
      continue;
    }
    auto* f = ff->fl_flag;
    if (f == nullptr)
      continue;
    switch (f->fl_type) {
      case MAILIMAP_FLAG_ANSWERED:
        result.emplace_back("\\Answered");
        break;
      case MAILIMAP_FLAG_FLAGGED:
        result.emplace_back("\\Flagged");
        break;
      case MAILIMAP_FLAG_DELETED:
        result.emplace_back("\\Deleted");
        break;
      case MAILIMAP_FLAG_SEEN:
        result.emplace_back("\\Seen");
        break;
      case MAILIMAP_FLAG_DRAFT:
        result.emplace_back("\\Draft");
        break;
      case MAILIMAP_FLAG_KEYWORD:
        result.push_back(str(f->fl_data.fl_keyword));
        break;
      case MAILIMAP_FLAG_EXTENSION:
        result.push_back("\\" + str(f->fl_data.fl_extension));
        break;
      default:
        break;
    }
  }
  return result;
}

std::string convert_date_time(const mailimap_date_time* dt) {
  if (dt == nullptr)
    return {};
  return to_iso8601(dt->dt_year, dt->dt_month, dt->dt_day, dt->dt_hour,
                    dt->dt_min, dt->dt_sec, dt->dt_zone);
}

std::vector<std::string> parse_references(std::string_view header) {
  std::vector<std::string> result;
  auto colon = header.find(':');
  if (colon == std::string_view::npos)
    return result;
  size_t pos = colon + 1;
  while ((pos = header.find('<', pos)) != std::string_view::npos) {
    auto end = header.find('>', pos);
    if (end == std::string_view::npos)
      break;
    auto id = header.substr(pos, end - pos + 1);
    bool clean = id.size() > 2;
    for (char c : id)
      clean = clean && static_cast<unsigned char>(c) > 0x20
              && static_cast<unsigned char>(c) < 0x7F;
    if (clean)
      result.emplace_back(id);
    pos = end + 1;
  }
  return result;
}

std::string section_of(const mailimap_section* section) {
  if (section == nullptr || section->sec_spec == nullptr
      || section->sec_spec->sec_type != MAILIMAP_SECTION_SPEC_SECTION_PART
      || section->sec_spec->sec_data.sec_part == nullptr)
    return {};
  std::string result;
  for (auto* n :
       items<uint32_t>(section->sec_spec->sec_data.sec_part->sec_id)) {
    if (!result.empty())
      result += '.';
    result += std::to_string(*n);
  }
  return result;
}

mailimap_fetch_att* body_peek(const std::string& section, uint64_t offset,
                              uint64_t length) {
  auto* ids = clist_new();
  size_t pos = 0;
  while (pos <= section.size()) {
    auto dot = section.find('.', pos);
    if (dot == std::string::npos)
      dot = section.size();
    auto* n = static_cast<uint32_t*>(std::malloc(sizeof(uint32_t)));
    *n = static_cast<uint32_t>(
      std::strtoul(section.substr(pos, dot - pos).c_str(), nullptr, 10));
    clist_append(ids, n);
    pos = dot + 1;
  }
  auto* part = mailimap_section_part_new(ids);
  auto* sec = mailimap_section_new_part(part);
  if (length > 0)
    return mailimap_fetch_att_new_body_peek_section_partial(
      sec, static_cast<uint32_t>(std::min<uint64_t>(offset, UINT32_MAX)),
      static_cast<uint32_t>(std::min<uint64_t>(length, UINT32_MAX)));
  return mailimap_fetch_att_new_body_peek_section(sec);
}

mailimap_fetch_att* references_peek() {
  auto* names = clist_new();
  clist_append(names, strdup("References"));
  auto* sec
    = mailimap_section_new_header_fields(mailimap_header_list_new(names));
  return mailimap_fetch_att_new_body_peek_section(sec);
}

mailimap_search_key* flag_key(int type) {
  return mailimap_search_key_new(type, nullptr, nullptr, nullptr, nullptr,
                                 nullptr, nullptr, nullptr, nullptr, nullptr,
                                 nullptr, nullptr, nullptr, nullptr, nullptr, 0,
                                 nullptr, nullptr, nullptr, nullptr, nullptr,
                                 nullptr, 0, nullptr, nullptr, nullptr);
}

set_ptr uid_set(const std::vector<uint32_t>& uids) {
  set_ptr set{mailimap_set_new_empty()};
  for (auto uid : uids)
    mailimap_set_add_single(set.get(), uid);
  return set;
}

std::vector<uint32_t> set_uids(const mailimap_set* set) {
  std::vector<uint32_t> result;
  if (set == nullptr)
    return result;
  for (auto* item : items<mailimap_set_item>(set->set_list)) {
    // A server's COPYUID never says "*"; bound the range anyway.
    if (item->set_first == 0 || item->set_last < item->set_first
        || item->set_last - item->set_first > 100000)
      continue;
    for (auto uid = item->set_first;; ++uid) {
      result.push_back(uid);
      if (uid == item->set_last)
        break;
    }
  }
  return result;
}

caf::error no_such_message(uint32_t uid, const std::string& folder) {
  return caf::make_error(ec::no_such_message,
                         "There is no message with UID " + std::to_string(uid)
                           + " in the folder \"" + mime::to_valid_utf8(folder)
                           + "\"");
}

capabilities convert_capabilities(const mailimap_capability_data* data) {
  capabilities caps;
  if (data == nullptr)
    return caps;
  for (auto* cap : items<struct mailimap_capability>(data->cap_list)) {
    std::string name;
    if (cap->cap_type == MAILIMAP_CAPABILITY_AUTH_TYPE)
      name = "AUTH=" + str(cap->cap_data.cap_auth_type);
    else
      name = str(cap->cap_data.cap_name);
    for (auto& c : name)
      if (c >= 'a' && c <= 'z')
        c = static_cast<char>(c - 'a' + 'A');
    if (name == "MOVE")
      caps.move = true;
    else if (name == "UIDPLUS")
      caps.uidplus = true;
    else if (name == "SPECIAL-USE")
      caps.special_use = true;
    else if (name == "CONDSTORE")
      caps.condstore = true;
    else if (name == "QRESYNC")
      caps.qresync = true;
    else if (name == "IDLE")
      caps.idle = true;
    else if (name == "ESEARCH")
      caps.esearch = true;
    else if (name == "LITERAL+")
      caps.literal_plus = true;
    else if (name == "LIST-STATUS")
      caps.list_status = true;
    else if (name.compare(0, 9, "COMPRESS=") == 0)
      caps.compress = true;
    caps.all.push_back(std::move(name));
  }
  return caps;
}

} // namespace postern::imap::detail
