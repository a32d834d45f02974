// SPDX-License-Identifier: Apache-2.0
#include "postern/http/permission_words.hpp"

namespace postern::http {

permission_words describe_permission(scope s) {
  // Each detail names what the tools of protocol/tools/src/catalogue.cpp
  // behind the scope can do; keep them in step when a tool is added.
  switch (s) {
    case scope::folders:
      return {"See your folders",
              "List your folders and how many messages each one holds.",
              false};
    case scope::read:
      return {"Read your messages",
              "List and open your messages, whole conversations and their "
              "attachments.",
              false};
    case scope::search:
      return {"Search your mail",
              "Find messages by sender, recipient, subject, words or date.",
              false};
    case scope::modify:
      return {"Organize and delete",
              "Mark messages read or flagged, copy and move them, delete "
              "messages, and create, rename or delete folders.",
              false};
    case scope::send:
      return {"Send email as you",
              "Send new messages, replies and forwards from your address to "
              "anyone; they cannot be called back.",
              true};
    case scope::draft:
      return {"Write drafts",
              "Save messages in your Drafts folder for you to check and send "
              "yourself; never sends anything.",
              false};
  }
  return {"Unknown permission", "", false};
}

} // namespace postern::http
