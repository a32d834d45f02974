// SPDX-License-Identifier: Apache-2.0
// list_accounts, and how tools/list offers a connection's accounts: the
// `account` argument every other tool takes, with the connection's labels
// and addresses as its enum; schema in schemas/list_accounts.json.

#include "families.hpp"
#include "postern/mcp/json.hpp"
#include "writers.hpp"

namespace postern::mcp {

namespace detail {

parsed_arguments parse_list_accounts(const tool_arguments&) {
  return accept(list_accounts_args{});
}

void add_account_argument(rapidjson::Value& input_schema,
                          const account_menu& menu,
                          rapidjson::Document::AllocatorType& alloc) {
  rapidjson::Value names{rapidjson::kArrayType};
  for (auto& n : menu.names)
    names.PushBack(rapidjson::Value{n.data(),
                                    static_cast<rapidjson::SizeType>(n.size()),
                                    alloc},
                   alloc);
  rapidjson::Value property{rapidjson::kObjectType};
  property.AddMember("type", "string", alloc);
  property.AddMember("enum", names, alloc);
  const char* description
    = menu.required ? "The email account to use (its label or address, see "
                      "list_accounts); this connection has several"
                    : "The email account to use (its label or address, see "
                      "list_accounts); without it, the connection's default "
                      "account";
  property.AddMember("description", rapidjson::StringRef(description), alloc);
  auto properties = input_schema.FindMember("properties");
  if (properties == input_schema.MemberEnd()) {
    input_schema.AddMember("properties", rapidjson::Value{rapidjson::kObjectType},
                           alloc);
    properties = input_schema.FindMember("properties");
  }
  properties->value.AddMember("account", property, alloc);
  if (!menu.required)
    return;
  auto required = input_schema.FindMember("required");
  if (required == input_schema.MemberEnd()) {
    input_schema.AddMember("required", rapidjson::Value{rapidjson::kArrayType},
                           alloc);
    required = input_schema.FindMember("required");
  }
  required->value.PushBack("account", alloc);
}

} // namespace detail

account_menu account_menu::of(const access_grant& grant) {
  account_menu menu;
  auto add = [&](const std::string& name) {
    if (!name.empty()
        && std::find(menu.names.begin(), menu.names.end(), name)
             == menu.names.end())
      menu.names.push_back(name);
  };
  for (auto& a : grant.accounts)
    add(a.label);
  for (auto& a : grant.accounts)
    add(a.address);
  menu.required = grant.find_account({}) == nullptr;
  return menu;
}

std::string encode_accounts(const access_grant& grant) {
  auto fallback = grant.find_account({});
  std::vector<std::string> permissions;
  for (auto s : all_scopes)
    if (has_scope(grant.scopes, s))
      permissions.emplace_back(to_string(s));
  json_writer w;
  w.begin_object().key("accounts").begin_array();
  for (auto& a : grant.accounts) {
    w.begin_object()
      .key("label")
      .string(a.label)
      .key("address")
      .string(a.address.empty() ? a.label : a.address);
    detail::write_strings(w.key("aliases"), a.aliases);
    w.key("default")
      .boolean(fallback == &a)
      .key("permissions");
    // Scopes are the connection's: the same in each of its accounts.
    detail::write_strings(w, permissions);
    w.end_object();
  }
  w.end_array().key("accountRequired").boolean(fallback == nullptr);
  w.end_object();
  return w.take();
}

} // namespace postern::mcp
