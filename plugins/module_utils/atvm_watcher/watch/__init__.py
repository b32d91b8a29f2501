# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The watch (``atvm-run-watcher watch``): follow one run until it is over and tell the channel,
exactly once, what became of it: the loop, the reading of the runner log across rotations and
restarts, and the request post.
"""
