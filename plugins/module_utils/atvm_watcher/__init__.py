# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""atvm_watcher: the ATVM run watcher core (private to the atvm.watcher collection).

No ansible imports, only relative imports inside the package and no side effects at import
time: the same files run under systemd on a controller without ansible-core and inside a
module's AnsiballZ payload.
"""
from __future__ import annotations

__version__ = "2.0.0"
