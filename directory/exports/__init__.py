"""Exports: the approved announcements of one school, week and channel, in the form the channel
needs (messaging text and CSV, a Facebook share list, a backpack-post PDF), and the week's
overview of every approved offer."""
