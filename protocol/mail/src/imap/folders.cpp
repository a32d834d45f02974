// SPDX-License-Identifier: Apache-2.0
// The folder operations of imap::session: the listing (LIST, with STATUS
// counts), the special-use folders, and folder create/rename/delete.
#include "etpan.hpp"
#include "net.hpp"
#include "postern/error.hpp"
#include "postern/imap/mailbox_name.hpp"
#include "postern/imap/session.hpp"
#include "postern/mime/charset.hpp"
#include "postern/mime/header.hpp"

#include <string_view>

namespace postern::imap {

using namespace detail;

namespace {

// -- the listing
// ----------------------------------------------------------------

// RFC 6154 roles plus the ones servers send without SPECIAL-USE.
constexpr std::string_view roles[] = {"All",  "Archive", "Drafts", "Flagged",
                                      "Junk", "Sent",    "Trash",  "Important"};

/// Takes the attributes of one LIST line into `f`: whether it can be
/// selected, and the special use its first role attribute names.
void apply_list_flags(folder& f, const mailimap_mbx_list_flags* flags) {
  if (flags->mbf_type == MAILIMAP_MBX_LIST_FLAGS_SFLAG) {
    switch (flags->mbf_sflag) {
      case MAILIMAP_MBX_LIST_SFLAG_NOSELECT:
        f.attributes.emplace_back("\\Noselect");
        f.selectable = false;
        break;
      case MAILIMAP_MBX_LIST_SFLAG_MARKED:
        f.attributes.emplace_back("\\Marked");
        break;
      case MAILIMAP_MBX_LIST_SFLAG_UNMARKED:
        f.attributes.emplace_back("\\Unmarked");
        break;
      default:
        break;
    }
  }
  for (auto* o : items<mailimap_mbx_list_oflag>(flags->mbf_oflags)) {
    if (o->of_type == MAILIMAP_MBX_LIST_OFLAG_NOINFERIORS) {
      f.attributes.emplace_back("\\Noinferiors");
      continue;
    }
    if (o->of_flag_ext == nullptr)
      continue;
    auto name = str(o->of_flag_ext);
    f.attributes.push_back("\\" + name);
    if (mime::iequals(name, "NonExistent") || mime::iequals(name, "Noselect"))
      f.selectable = false;
    for (auto role : roles)
      if (mime::iequals(name, role) && f.special_use.empty())
        f.special_use = "\\" + std::string{role};
  }
}

/// The folder one LIST line (with mailbox name `wire`) describes.
folder listed_folder(const mailimap_mailbox_list* mb, const std::string& wire) {
  folder f;
  bool inbox = mime::iequals(wire, "INBOX");
  f.name = inbox ? "INBOX" : display_mailbox_name(wire);
  if (mb->mb_delimiter != 0)
    f.delimiter = mime::to_valid_utf8(std::string(1, mb->mb_delimiter));
  if (inbox)
    f.special_use = "\\Inbox";
  if (auto* flags = mb->mb_flag)
    apply_list_flags(f, flags);
  return f;
}

// -- folder changes
// -------------------------------------------------------------

caf::error missing_folder(const std::string& name) {
  return caf::make_error(ec::no_such_folder, "The folder \""
                                               + mime::to_valid_utf8(name)
                                               + "\" does not exist");
}

caf::error name_taken(const std::string& name) {
  return caf::make_error(ec::already_exists, "A folder named \""
                                               + mime::to_valid_utf8(name)
                                               + "\" already exists");
}

/// The hierarchy delimiter of the account (the one of INBOX, else any).
std::string account_delimiter(const std::vector<folder>& folders) {
  std::string delimiter;
  for (auto& f : folders)
    if (!f.delimiter.empty()
        && (delimiter.empty() || f.special_use == "\\Inbox"))
      delimiter = f.delimiter;
  return delimiter;
}

caf::error protected_folder(const folder& f, std::string_view verb) {
  if (f.special_use == "\\Inbox" || mime::iequals(f.name, "INBOX"))
    return caf::make_error(ec::invalid_argument,
                           "INBOX cannot be " + std::string{verb});
  return caf::make_error(
    ec::invalid_argument,
    "The folder \"" + f.name + "\" is the account's " + f.special_use.substr(1)
      + " folder (special use) and cannot be " + std::string{verb});
}

/// Checks a new folder name: not empty, no control characters, no LIST
/// wildcards, no empty hierarchy level.
caf::error check_new_name(const std::string& name,
                          const std::string& delimiter) {
  auto bad = [&](const std::string& why) {
    return caf::make_error(ec::invalid_argument, "The folder name \""
                                                   + mime::to_valid_utf8(name)
                                                   + "\" " + why);
  };
  if (!mime::is_valid_utf8(name))
    return bad("is not valid UTF-8");
  for (char ch : name)
    if (auto c = static_cast<unsigned char>(ch); c < 0x20 || c == 0x7f)
      return bad("contains a control character");
  if (name.find_first_of("*%") != std::string::npos)
    return bad("contains * or %, which IMAP reserves as wildcards");
  if (mime::iequals(name, "INBOX"))
    return bad("is reserved for the inbox");
  if (!delimiter.empty()) {
    if (name.compare(0, delimiter.size(), delimiter) == 0
        || (name.size() >= delimiter.size()
            && name.compare(name.size() - delimiter.size(), delimiter.size(),
                            delimiter)
                 == 0)
        || name.find(delimiter + delimiter) != std::string::npos)
      return bad("has an empty level (a leading, trailing or doubled \""
                 + delimiter + "\")");
  }
  return {};
}

const folder* find_folder(const std::vector<folder>& folders,
                          const std::string& name) {
  for (auto& f : folders)
    if (same_mailbox(f.name, name))
      return &f;
  return nullptr;
}

/// A special-use folder (or INBOX) at or below `name`, if any.
const folder* protected_at_or_below(const std::vector<folder>& folders,
                                    const folder& top) {
  for (auto& f : folders) {
    if (f.special_use.empty())
      continue;
    if (same_mailbox(f.name, top.name))
      return &f;
    if (!top.delimiter.empty()
        && f.name.compare(0, top.name.size() + top.delimiter.size(),
                          top.name + top.delimiter)
             == 0)
      return &f;
  }
  return nullptr;
}

/// The refusal to rename or delete `top` (`verb`: "renamed", "deleted")
/// because the special-use folder `p` is `top` itself or below it.
caf::error protected_refusal(const folder& top, const folder& p,
                             std::string_view verb) {
  if (same_mailbox(p.name, top.name))
    return protected_folder(top, verb);
  return caf::make_error(ec::invalid_argument,
                         "The folder \"" + top.name
                           + "\" holds the special-use folder \"" + p.name
                           + "\" and cannot be " + std::string{verb});
}

} // namespace

// -- the listing
// ----------------------------------------------------------------

caf::expected<std::vector<folder>> session::list_folders(bool with_counts) {
  deadline_guard deadline{canceller_, options_.operation_timeout};
  if (auto err = check_usable())
    return err;
  clist* raw = nullptr;
  start_call();
  // libetpan keeps every LIST line in memory until the command ends.
  budget_->limit_operation_items(options_.max_folders, "folders");
  auto rc = mailimap_list(imap_, "", "*", &raw);
  list_result_ptr list{raw};
  if (rc != MAILIMAP_NO_ERROR)
    return command_error(rc, "list the folders");
  std::vector<folder> result;
  std::vector<std::string> wires;
  for (auto* mb : items<mailimap_mailbox_list>(list.get())) {
    if (mb->mb_name == nullptr)
      continue;
    std::string wire = mb->mb_name;
    result.push_back(listed_folder(mb, wire));
    wires.push_back(std::move(wire));
  }
  if (with_counts)
    if (auto err = add_counts(result, wires))
      return err;
  return result;
}

caf::error session::add_counts(std::vector<folder>& folders,
                               const std::vector<std::string>& wires) {
  for (size_t i = 0; i < folders.size(); ++i) {
    if (!folders[i].selectable)
      continue;
    auto* atts = mailimap_status_att_list_new_empty();
    status_att_ptr att_list{atts};
    mailimap_status_att_list_add(atts, MAILIMAP_STATUS_ATT_MESSAGES);
    mailimap_status_att_list_add(atts, MAILIMAP_STATUS_ATT_UNSEEN);
    mailimap_mailbox_data_status* status_raw = nullptr;
    start_call();
    auto rc = mailimap_status(imap_, wires[i].c_str(), atts, &status_raw);
    status_ptr status{status_raw};
    if (rc != MAILIMAP_NO_ERROR) {
      auto err = command_error(rc, "count the messages of a folder");
      if (!usable_)
        return err;
      continue; // a folder that vanished meanwhile keeps no counts
    }
    folders[i].has_counts = true;
    for (auto* info : items<mailimap_status_info>(status->st_info_list)) {
      if (info->st_att == MAILIMAP_STATUS_ATT_MESSAGES)
        folders[i].messages = info->st_value;
      else if (info->st_att == MAILIMAP_STATUS_ATT_UNSEEN)
        folders[i].unseen = info->st_value;
    }
  }
  return {};
}

caf::expected<std::string> session::find_special_use(std::string_view role) {
  deadline_guard deadline{canceller_, options_.operation_timeout};
  auto folders = list_folders(false);
  if (!folders)
    return std::move(folders.error());
  for (auto& f : *folders)
    if (f.selectable && mime::iequals(f.special_use, role))
      return f.name;
  // Servers without SPECIAL-USE: the names clients commonly create.
  std::vector<std::string_view> names;
  if (mime::iequals(role, "\\Sent"))
    names = {"Sent",      "Sent Items", "Sent Messages",
             "Sent Mail", "INBOX.Sent", "INBOX/Sent"};
  else if (mime::iequals(role, "\\Trash"))
    names = {"Trash", "Deleted Items", "Deleted Messages", "INBOX.Trash"};
  else if (mime::iequals(role, "\\Drafts"))
    names = {"Drafts", "INBOX.Drafts"};
  else if (mime::iequals(role, "\\Junk"))
    names = {"Junk", "Spam", "Junk E-mail", "INBOX.Junk"};
  else if (mime::iequals(role, "\\Archive"))
    names = {"Archive", "INBOX.Archive"};
  for (auto name : names)
    for (auto& f : *folders)
      if (f.selectable && mime::iequals(f.name, name))
        return f.name;
  return caf::make_error(ec::no_such_folder, "The mail account has no "
                                               + std::string{role.substr(1)}
                                               + " folder");
}

// -- folder changes
// -------------------------------------------------------------

caf::expected<folder> session::change_folder(const folder_change& change) {
  deadline_guard deadline{canceller_, options_.operation_timeout};
  auto folders = list_folders(false);
  if (!folders)
    return std::move(folders.error());
  auto delimiter = account_delimiter(*folders);
  switch (change.action) {
    case folder_action::create:
      return create_folder(change.name, *folders, delimiter);
    case folder_action::rename:
      return rename_folder(change, *folders, delimiter);
    case folder_action::remove:
      return delete_folder(change.name, *folders);
  }
  return caf::make_error(ec::invalid_argument, "Unknown folder change");
}

caf::expected<folder> session::folder_as_listed(const std::string& name,
                                                const std::string& delimiter) {
  auto after = list_folders(false);
  if (!after)
    return std::move(after.error());
  if (auto* f = find_folder(*after, name))
    return *f;
  folder f; // the server made it but does not list it (yet)
  f.name = name;
  f.delimiter = delimiter;
  return f;
}

caf::expected<folder> session::create_folder(const std::string& name,
                                             const std::vector<folder>& folders,
                                             const std::string& delimiter) {
  if (auto err = check_new_name(name, delimiter))
    return err;
  if (find_folder(folders, name) != nullptr)
    return name_taken(name);
  auto wire = wire_mailbox_name(name);
  start_call();
  if (auto rc = mailimap_create(imap_, wire.c_str()); rc != MAILIMAP_NO_ERROR)
    return command_error(rc, "create the folder \"" + name + "\"");
  return folder_as_listed(name, delimiter);
}

caf::expected<folder> session::rename_folder(const folder_change& change,
                                             const std::vector<folder>& folders,
                                             const std::string& delimiter) {
  auto* from = find_folder(folders, change.name);
  if (from == nullptr)
    return missing_folder(change.name);
  if (auto* p = protected_at_or_below(folders, *from))
    return protected_refusal(*from, *p, "renamed");
  if (auto err = check_new_name(change.new_name, delimiter))
    return err;
  if (find_folder(folders, change.new_name) != nullptr)
    return name_taken(change.new_name);
  auto old_wire = wire_mailbox_name(change.name);
  auto new_wire = wire_mailbox_name(change.new_name);
  if (selected_ == old_wire)
    selected_.clear(); // the selection follows the rename on some servers
  start_call();
  if (auto rc = mailimap_rename(imap_, old_wire.c_str(), new_wire.c_str());
      rc != MAILIMAP_NO_ERROR)
    return command_error(rc, "rename the folder \"" + change.name + "\"");
  return folder_as_listed(change.new_name, delimiter);
}

caf::error session::check_empty(const folder& target, const std::string& name,
                                const std::string& wire) {
  auto* atts = mailimap_status_att_list_new_empty();
  status_att_ptr att_list{atts};
  mailimap_status_att_list_add(atts, MAILIMAP_STATUS_ATT_MESSAGES);
  mailimap_mailbox_data_status* raw = nullptr;
  start_call();
  auto rc = mailimap_status(imap_, wire.c_str(), atts, &raw);
  status_ptr status{raw};
  if (rc != MAILIMAP_NO_ERROR)
    return folder_error(name, rc, "count the messages of \"" + name + "\"");
  uint32_t count = 0;
  for (auto* info : items<mailimap_status_info>(status->st_info_list))
    if (info->st_att == MAILIMAP_STATUS_ATT_MESSAGES)
      count = info->st_value;
  if (count > 0)
    return caf::make_error(ec::invalid_argument,
                           "The folder \"" + target.name + "\" still holds "
                             + std::to_string(count)
                             + (count == 1 ? " message" : " messages")
                             + "; move or delete them first, so no "
                               "mail is lost with the folder");
  return {};
}

caf::expected<folder>
session::delete_folder(const std::string& name,
                       const std::vector<folder>& folders) {
  auto* target = find_folder(folders, name);
  if (target == nullptr)
    return missing_folder(name);
  if (auto* p = protected_at_or_below(folders, *target))
    return protected_refusal(*target, *p, "deleted");
  auto wire = wire_mailbox_name(name);
  // Deleting a folder deletes its messages with it: refuse unless it is
  // empty, so nothing is lost by one call.
  if (target->selectable)
    if (auto err = check_empty(*target, name, wire))
      return err;
  auto result = *target;
  if (selected_ == wire) {
    // A selected mailbox cannot always be deleted: leave it first.
    start_call();
    if (auto rc = mailimap_close(imap_); rc != MAILIMAP_NO_ERROR)
      return command_error(rc, "close the folder");
    selected_.clear();
  }
  start_call();
  if (auto rc = mailimap_delete(imap_, wire.c_str()); rc != MAILIMAP_NO_ERROR)
    return command_error(rc, "delete the folder \"" + name + "\"");
  return result;
}

} // namespace postern::imap
