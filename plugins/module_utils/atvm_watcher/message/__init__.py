# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a post says: the view of a decided (sub-)run and its formatters (the webhook payload,
the Markdown of the operator's template and of ``verdict``).
"""
